"""Import from a URL: fetched by a durable job, through the SSRF guard."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from fastapi import FastAPI

from moviie.accounts.service import NewAccount
from tests.conftest import bearer
from tests.http.test_errors import assert_problem
from tests.media.clips import video as video_clip


async def _wait_for_status(
    client: httpx.AsyncClient, key: str, video_id: str, wanted: set[str]
) -> dict:
    for _ in range(150):
        video = (await client.get(f"/v1/videos/{video_id}", headers=bearer(key))).json()
        if video["status"] in wanted:
            return video
        await asyncio.sleep(0.1)
    raise AssertionError(f"video stayed {video['status']}")


async def test_a_url_import_fetches_the_file_in_a_job(
    app_with_workers: FastAPI, account: NewAccount, file_server: tuple[str, Path]
) -> None:
    base_url, served = file_server
    content = video_clip(served / "talk.mp4").read_bytes()
    transport = httpx.ASGITransport(app=app_with_workers)
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        response = await client.post(
            "/v1/videos",
            json={"url": f"{base_url}/talk.mp4", "title": "Imported"},
            headers=bearer(account.private_key),
        )
        assert response.status_code == 201, response.text
        video = response.json()
        assert video["status"] == "uploading"
        assert video["source"]["filename"] == "talk.mp4"
        done = await _wait_for_status(
            client, account.private_key, video["id"], {"processing", "ready", "failed"}
        )
        assert done["status"] in ("processing", "ready"), done
        assert done["size_bytes"] == len(content)
        stored = (
            app_with_workers.state.settings.data_dir
            / f"media/accounts/{account.account.id}/videos/{video['id']}/source"
        )
        assert stored.read_bytes() == content

        missing = await client.post(
            "/v1/videos", json={"url": f"{base_url}/nope.mp4"}, headers=bearer(account.private_key)
        )
        failed = await _wait_for_status(
            client, account.private_key, missing.json()["id"], {"failed"}
        )
        assert failed["error"]["code"] == "download_failed"
        assert "404" in failed["error"]["message"]


async def test_private_and_loopback_targets_are_refused(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    for url in (
        "http://127.0.0.1:9/x.mp4",
        "http://localhost/x.mp4",
        "http://10.1.2.3/x.mp4",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x.mp4",
        "http://[::ffff:127.0.0.1]/x.mp4",
    ):
        response = await client.post(
            "/v1/videos", json={"url": url}, headers=bearer(account.private_key)
        )
        assert_problem(response, 422, "target_not_allowed")
    not_http = await client.post(
        "/v1/videos", json={"url": "ftp://example.com/x"}, headers=bearer(account.private_key)
    )
    assert_problem(not_http, 422, "validation_failed")
    listed = (await client.get("/v1/videos", headers=bearer(account.private_key))).json()
    assert listed["data"] == []
