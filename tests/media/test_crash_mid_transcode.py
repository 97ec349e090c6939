"""SIGKILL of a worker in the middle of an encode: its ffmpeg dies with it, another worker takes
the job over once the first one's heartbeat stops, and the video ends ready once, with one
`video.ready`, and nothing orphaned on disk or in storage."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from moviie.db.engine import Database
from moviie.db.models import Event
from tests.media.clips import video
from tests.servers import create_account, moviie_env, moviie_server, wait_for, worker

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _encoders_of(video_id: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", f"ffmpeg.*{video_id}"], capture_output=True, text=True)
    return found.stdout.split()


def _ready_events(database_url: str, video_id: str) -> int:
    async def count() -> int:
        db = Database(database_url)
        try:
            async with db.transaction(write=False) as session:
                rows = (
                    await session.scalars(select(Event.data).where(Event.type == "video.ready"))
                ).all()
                return sum(1 for data in rows if data["id"] == video_id)
        finally:
            await db.dispose()

    return asyncio.run(count())


def test_a_killed_encode_finishes_once_on_another_worker(database_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = moviie_env(
        database_url,
        data,
        MOVIIE_QUEUE_POLLING_INTERVAL_S="0.1",
        MOVIIE_WORKER_HEARTBEAT_S="0.5",
        MOVIIE_WORKER_DEAD_AFTER_S="3",
        MOVIIE_MAINTENANCE_SCHEDULES="false",
    )
    created = create_account(env, f"k-{tmp_path.name}")
    headers = {"Authorization": f"Bearer {created['private_key']}"}
    clip = video(tmp_path / "clip.mp4", size="1280x720", seconds=16)
    log = tmp_path / "workers.log"
    with moviie_server("api", env, tmp_path / "api.log") as base:
        with worker(env, "doomed", log, queues="media") as first:
            files = {"file": ("clip.mp4", clip.read_bytes(), "video/mp4")}
            response = httpx.post(f"{base}/v1/videos", headers=headers, files=files, timeout=60)
            assert response.status_code == 201, response.text
            video_id = response.json()["id"]

            def encoding() -> bool:
                body = httpx.get(f"{base}/v1/videos/{video_id}", headers=headers).json()
                moving = bool(body["progress"] and 0.05 < body["progress"] < 0.9)
                return moving and bool(_encoders_of(video_id))

            wait_for(encoding, 120, "the encode to start")
            assert _encoders_of(video_id)
            first.send_signal(signal.SIGKILL)
            first.wait()
            # The kernel ends the orphaned encoder (PR_SET_PDEATHSIG): nothing runs on behind.
            wait_for(lambda: not _encoders_of(video_id), 5, "the orphaned ffmpeg to die")
            stopped_at = httpx.get(f"{base}/v1/videos/{video_id}", headers=headers).json()
            assert stopped_at["status"] == "processing"

        with worker(env, "rescuer", log, queues="media"):

            def settled() -> bool:
                body = httpx.get(f"{base}/v1/videos/{video_id}", headers=headers).json()
                return body["status"] != "processing"

            wait_for(settled, 180, "the video to finish on the other worker")
            done = httpx.get(f"{base}/v1/videos/{video_id}", headers=headers).json()
            assert done["status"] == "ready", done
            assert done["duration_s"] == pytest.approx(16, abs=0.2)
            master = httpx.get(done["playback"]["hls"]).text
            assert master.count("#EXT-X-STREAM-INF") == 4
            time.sleep(1)  # a duplicate would come from a replay racing the first finish

    assert _ready_events(database_url, video_id) == 1
    stored = data / "media" / "accounts" / created["account"]["id"] / "videos" / video_id
    names = sorted(p.relative_to(stored).as_posix() for p in stored.rglob("*") if p.is_file())
    expected_top = {"download.mp4", "poster.jpg", "source", "storyboard.jpg", "storyboard.vtt"}
    assert {n for n in names if "/" not in n} == expected_top
    playlists = [n for n in names if n.endswith(".m3u8")]
    assert sorted(playlists) == sorted(
        ["hls/master.m3u8", "hls/audio/index.m3u8"]  # the sound: a rendition of its own
        + [f"hls/{r}/index.m3u8" for r in ("720p", "480p", "360p", "240p")]
    )
    for rendition in ("720p", "480p", "360p", "240p"):
        index = (stored / "hls" / rendition / "index.m3u8").read_text()
        segments = {n.rsplit("/", 1)[1] for n in names if n.startswith(f"hls/{rendition}/seg_")}
        named = {line for line in index.splitlines() if line.startswith("seg_")}
        assert segments == named  # every stored segment is in its playlist: none orphaned
    work = data / "work"
    assert not work.exists() or not any(work.iterdir())
