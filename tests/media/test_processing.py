"""The processing job on real uploads: what a video is gets recorded; what is not a video fails
with a code and a `video.failed` event, while the worker goes on with the next job."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from moviie.accounts.service import NewAccount
from moviie.db.models import Event
from tests.conftest import bearer
from tests.media.clips import broken_corpus, video


async def _wait(client: httpx.AsyncClient, key: str, video_id: str, done: Any) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(200):
        body = (await client.get(f"/v1/videos/{video_id}", headers=bearer(key))).json()
        if done(body):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"video never got there: {body}")


async def test_probing_records_the_video_or_fails_it_with_a_code(
    app_with_workers: FastAPI, account: NewAccount, tmp_path: Path
) -> None:
    clip = video(tmp_path / "clip.mp4", size="1280x720", seconds=2)
    broken = broken_corpus(tmp_path / "broken")
    transport = httpx.ASGITransport(app=app_with_workers)
    key = account.private_key
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        uploaded = {}
        for name, path in {
            "good": clip,
            "text": broken["text"],
            "garbage": broken["garbage"],
        }.items():
            response = await client.post(
                "/v1/videos",
                headers=bearer(key),
                files={"file": (path.name, path.read_bytes(), "video/mp4")},
            )
            assert response.status_code == 201, response.text
            uploaded[name] = response.json()["id"]

        good = await _wait(client, key, uploaded["good"], lambda v: v["duration_s"] is not None)
        assert (good["width"], good["height"]) == (1280, 720)
        assert abs(good["duration_s"] - 2) < 0.2
        assert good["status"] == "processing"
        for name in ("text", "garbage"):
            failed = await _wait(client, key, uploaded[name], lambda v: v["status"] == "failed")
            assert failed["error"]["code"] == "unsupported_media", failed

    async with app_with_workers.state.db.transaction(write=False) as session:
        events = (
            await session.execute(
                select(Event.type, Event.data).where(Event.account_id == account.account.id)
            )
        ).all()
    failed_ids = sorted(data["id"] for kind, data in events if kind == "video.failed")
    assert failed_ids == sorted([uploaded["text"], uploaded["garbage"]])
