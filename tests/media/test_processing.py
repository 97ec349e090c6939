"""The processing job on real uploads: what a video is gets recorded; what is not a video fails
with a code and a `video.failed` event, while the worker goes on with the next job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from moviie.accounts.service import NewAccount
from moviie.db.models import Event
from moviie.usage.repository import bandwidth_of_video
from tests.conftest import bearer, make_account
from tests.media.clips import video
from tests.media.flow import ready


async def test_a_ready_video_is_served_with_ranges_and_cache_headers(
    app_with_workers: FastAPI, account: NewAccount, tmp_path: Path
) -> None:
    clip = video(tmp_path / "clip.mp4", size="1280x720", seconds=2)
    transport = httpx.ASGITransport(app=app_with_workers)
    key = account.private_key
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        good = await ready(client, key, clip)
        assert (good["width"], good["height"]) == (1280, 720)
        assert abs(good["duration_s"] - 2) < 0.2
        assert good["ready_at"] is not None
        await _check_playback(client, good)

    async with app_with_workers.state.db.transaction(write=False) as session:
        events = (
            await session.execute(
                select(Event.type, Event.data).where(Event.account_id == account.account.id)
            )
        ).all()
    ready_events = [data for kind, data in events if kind == "video.ready"]
    assert [d["id"] for d in ready_events] == [good["id"]]  # once
    assert ready_events[0]["playback"]["hls"].endswith("/hls/master.m3u8")
    assert ready_events[0]["embed"].endswith(f"/embed/{good['id']}")
    assert ready_events[0]["reference_id"] is None


async def test_bytes_served_are_counted_per_account_and_video(
    app_with_workers: FastAPI, account: NewAccount, tmp_path: Path
) -> None:
    clip = video(tmp_path / "clip.mp4", seconds=2)
    other = await make_account(app_with_workers.state.db)
    transport = httpx.ASGITransport(app=app_with_workers)
    meter = app_with_workers.state.bandwidth
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        first = await ready(client, account.private_key, clip)
        second = await ready(client, account.private_key, clip)
        theirs = await ready(client, other.private_key, clip)
        served = {first["id"]: 0, second["id"]: 0, theirs["id"]: 0}
        for vid in served:
            whole = await client.get(f"/media/{vid}/download.mp4")
            assert whole.status_code == 200
            part = await client.get(f"/media/{vid}/poster.jpg", headers={"Range": "bytes=0-99"})
            served[vid] = len(whole.content) + len(part.content)
            assert len(part.content) == 100
        url = f"/media/{first['id']}/download.mp4"
        etag = (await client.get(url, headers={"Range": "bytes=0-0"})).headers["etag"]
        served[first["id"]] += 1
        cached = await client.get(url, headers={"If-None-Match": etag})
        assert cached.status_code == 304  # counts nothing
        await meter.flush()

        me = (await client.get("/v1/me", headers=bearer(account.private_key))).json()
        assert me["usage"]["bandwidth_bytes_month"] == served[first["id"]] + served[second["id"]]
        them = (await client.get("/v1/me", headers=bearer(other.private_key))).json()
        assert them["usage"]["bandwidth_bytes_month"] == served[theirs["id"]]
    async with app_with_workers.state.db.transaction(write=False) as session:
        for vid, n in served.items():
            owner = other if vid == theirs["id"] else account
            assert await bandwidth_of_video(session, owner.account.id, vid) == n


async def _check_playback(client: httpx.AsyncClient, video: dict[str, Any]) -> None:
    path = httpx.URL(video["playback"]["hls"]).path
    master = await client.get(path)
    assert master.status_code == 200
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert master.headers["cache-control"] == "public, max-age=60"  # may gain subtitles
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
    assert whole.headers["cache-control"] == "public, max-age=31536000, immutable"
    head = await client.head(segment_path)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(whole.content))
    assert head.content == b""
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
