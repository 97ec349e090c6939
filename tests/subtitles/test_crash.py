"""SIGKILL of the worker in the middle of a subtitles job: another worker takes it over once
the first one's heartbeat stops, and the job ends succeeded once, charged once (no refund),
with one `subtitles.ready`."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from moviie.db.engine import Database
from moviie.db.models import CreditEntry, Event
from tests.servers import create_account, moviie_env, moviie_server, wait_for, worker
from tests.subtitles.speech import SENTENCES, speech_video

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def _records(database_url: str, account_id: str, job_id: str) -> tuple[list[str], int]:
    async def read() -> tuple[list[str], int]:
        db = Database(database_url)
        try:
            async with db.transaction(write=False) as session:
                kinds = (
                    await session.scalars(
                        select(CreditEntry.kind).where(CreditEntry.job_id == job_id)
                    )
                ).all()
                events = (
                    await session.scalars(
                        select(Event.data).where(
                            Event.account_id == account_id, Event.type == "subtitles.ready"
                        )
                    )
                ).all()
                return list(kinds), sum(1 for data in events if data["id"] == job_id)
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_a_killed_subtitles_job_finishes_once_charged_once(
    database_url: str, tmp_path: Path
) -> None:
    env = moviie_env(
        database_url,
        tmp_path / "data",
        MOVIIE_QUEUE_POLLING_INTERVAL_S="0.1",
        MOVIIE_WORKER_HEARTBEAT_S="0.5",
        MOVIIE_WORKER_DEAD_AFTER_S="3",
        MOVIIE_MAINTENANCE_SCHEDULES="false",
    )
    created = create_account(env, f"s-{tmp_path.name}")
    account_id = created["account"]["id"]
    headers = {"Authorization": f"Bearer {created['private_key']}"}
    speech = speech_video(tmp_path / "speech", SENTENCES * 4)  # about a minute of speech
    log = tmp_path / "workers.log"
    with moviie_server("api", env, tmp_path / "api.log") as base:
        with worker(env, "doomed", log, queues="media,ai") as first:
            files = {"file": ("speech.mp4", speech.path.read_bytes(), "video/mp4")}
            uploaded = httpx.post(f"{base}/v1/videos", headers=headers, files=files, timeout=60)
            assert uploaded.status_code == 201, uploaded.text
            video_id = uploaded.json()["id"]

            def video_ready() -> bool:
                body = httpx.get(f"{base}/v1/videos/{video_id}", headers=headers).json()
                return bool(body["status"] == "ready")

            wait_for(video_ready, 120, "the video to be ready")
            asked = httpx.post(f"{base}/v1/videos/{video_id}/subtitles", json={}, headers=headers)
            assert asked.status_code == 202, asked.text
            job_id = asked.json()["id"]

            def running() -> bool:
                body = httpx.get(f"{base}/v1/jobs/{job_id}", headers=headers).json()
                return bool(body["status"] == "running")

            wait_for(running, 60, "the job to start")
            time.sleep(0.5)  # into the transcription
            first.send_signal(signal.SIGKILL)
            first.wait()
            stopped = httpx.get(f"{base}/v1/jobs/{job_id}", headers=headers).json()
            assert stopped["status"] == "running", stopped

        with worker(env, "rescuer", log, queues="media,ai"):

            def ended() -> bool:
                body = httpx.get(f"{base}/v1/jobs/{job_id}", headers=headers).json()
                return bool(body["status"] in ("succeeded", "failed"))

            wait_for(ended, 240, "the job to end on the rescuer")
            time.sleep(1.0)  # room for a second ending to show up
        done = httpx.get(f"{base}/v1/jobs/{job_id}", headers=headers).json()
    assert done["status"] == "succeeded", done
    assert done["credits"] == {"charged": asked.json()["credits"]["charged"], "refunded": 0}
    kinds, ready_events = _records(env["MOVIIE_DATABASE_URL"], account_id, job_id)
    assert kinds == ["debit"]
    assert ready_events == 1
