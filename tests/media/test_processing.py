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

        good = await _wait(client, key, uploaded["good"], lambda v: v["status"] != "processing")
        assert good["status"] == "ready", good
        assert (good["width"], good["height"]) == (1280, 720)
        assert abs(good["duration_s"] - 2) < 0.2
        assert good["ready_at"] is not None
        await _check_playback(client, good)
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
    ready = [data for kind, data in events if kind == "video.ready"]
    assert [d["id"] for d in ready] == [uploaded["good"]]  # once
    assert ready[0]["playback"]["hls"].endswith("/hls/master.m3u8")
    assert ready[0]["embed"].endswith(f"/embed/{uploaded['good']}")


async def _check_playback(client: httpx.AsyncClient, video: dict[str, Any]) -> None:
    path = httpx.URL(video["playback"]["hls"]).path
    master = await client.get(path)
    assert master.status_code == 200
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert "max-age=31536000" in master.headers["cache-control"]
    lines = master.text.splitlines()
    stream_infs = [line for line in lines if line.startswith("#EXT-X-STREAM-INF")]
    # 720p source: the 720, 480, 360 and 240 rungs, no upscaling to 1080
    assert len(stream_infs) == 4, master.text
    for needed in ("BANDWIDTH=", "RESOLUTION=", "CODECS="):
        assert all(needed in line for line in stream_infs), master.text
    assert "RESOLUTION=1280x720" in master.text
    assert "RESOLUTION=1920x1080" not in master.text
    variant = lines[lines.index(stream_infs[0]) + 1]
    base = path.rsplit("/", 1)[0]
    playlist = await client.get(f"{base}/{variant}")
    assert playlist.status_code == 200
    assert "#EXT-X-MAP:URI=" in playlist.text
    segment_name = next(line for line in playlist.text.splitlines() if line.endswith(".m4s"))
    segment_path = f"{base}/{variant.rsplit('/', 1)[0]}/{segment_name}"
    whole = await client.get(segment_path)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/iso.segment"
    part = await client.get(segment_path, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == whole.content[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(whole.content)}"
    poster = await client.get(httpx.URL(video["playback"]["poster"]).path)
    assert poster.status_code == 200
    assert poster.content[:2] == b"\xff\xd8"  # JPEG
    download = await client.get(httpx.URL(video["playback"]["mp4"]).path)
    assert download.status_code == 200
    assert download.headers["content-type"] == "video/mp4"
    moov, mdat = download.content.find(b"moov"), download.content.find(b"mdat")
    assert 0 <= moov < mdat  # +faststart: the index comes first, playable while downloading
    sprite = await client.get(f"/media/{video['id']}/storyboard.jpg")
    assert sprite.status_code == 200
    assert sprite.content[:2] == b"\xff\xd8"
    track = await client.get(f"/media/{video['id']}/storyboard.vtt")
    assert track.status_code == 200
    assert track.headers["content-type"].startswith("text/vtt")
    cues = track.text.splitlines()
    assert cues[0] == "WEBVTT"
    assert cues[2] == "00:00:00.000 --> 00:00:01.000"
    assert cues[3] == "storyboard.jpg#xywh=0,0,160,90"
    missing = await client.get(f"{base}/nothing.m4s")
    assert missing.status_code == 404
    traversal = await client.get(f"{base}/..%2f..%2fsource")
    assert traversal.status_code == 404
    source = await client.get(f"/media/{video['id']}/source")
    assert source.status_code == 404  # the original is not served
