"""Durable jobs survive SIGKILL: the same worker resumes on restart, and a live worker takes over
the jobs of one that never comes back. Real worker processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from dbos import DBOSClient
from sqlalchemy import func, select

from moviie.db.engine import Database
from moviie.db.models import IdempotencyRecord
from moviie.db.types import utcnow
from moviie.jobs.client import JobClient
from moviie.jobs.urls import system_database_url
from moviie.maintenance.tasks import purge_expired_idempotency_records
from moviie.worker import SCHEDULES
from tests.conftest import make_settings
from tests.servers import moviie_env, wait_for, worker

pytestmark = pytest.mark.slow
RECORDS = 5


async def _seed_expired(url: str, count: int) -> str:
    db = Database(url)
    tag = uuid.uuid4().hex[:8]
    try:
        async with db.transaction() as session:
            past = utcnow() - timedelta(days=2)
            for i in range(count):
                session.add(
                    IdempotencyRecord(
                        scope=f"crash-{tag}",
                        key=f"k{i}",
                        fingerprint="f",
                        created_at=past,
                        expires_at=past,
                    )
                )
    finally:
        await db.dispose()
    return tag


async def _count_expired(url: str) -> int:
    db = Database(url)
    try:
        async with db.transaction(write=False) as session:
            stmt = (
                select(func.count())
                .select_from(IdempotencyRecord)
                .where(IdempotencyRecord.expires_at <= utcnow())
            )
            return int(await session.scalar(stmt) or 0)
    finally:
        await db.dispose()


async def _enqueue_purge(url: str, tmp: Path, job_id: str) -> None:
    settings = make_settings(url, tmp)
    db = Database(url)
    jobs = JobClient(settings)
    try:
        async with db.transaction() as session:
            await jobs.enqueue_in(
                session, "maintenance", purge_expired_idempotency_records, 1, 1.0, job_id=job_id
            )
    finally:
        jobs.close()
        await db.dispose()


def _status(client: DBOSClient, job_id: str) -> tuple[str, str | None, object]:
    status = client.retrieve_workflow(job_id).get_status()
    return status.status, status.executor_id, status.output


@pytest.fixture
def crash_setup(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str], DBOSClient]]:
    env = moviie_env(
        database_url,
        tmp_path,
        MOVIIE_QUEUE_POLLING_INTERVAL_S="0.1",
        MOVIIE_WORKER_HEARTBEAT_S="0.5",
        MOVIIE_WORKER_DEAD_AFTER_S="3",
        MOVIIE_MAINTENANCE_SCHEDULES="false",
    )
    client = DBOSClient(
        system_database_url=system_database_url(database_url), application_name="moviie"
    )
    # Schedules applied by earlier tests' workers live in this database: the hourly purge firing
    # mid-test would delete the records this test counts.
    for schedule in SCHEDULES:
        client.delete_schedule(str(schedule["schedule_name"]))
    # earlier tests on this database may have left expired records: start from none
    asyncio.run(_purge_all(database_url))
    yield database_url, env, client
    client.destroy()


async def _purge_all(url: str) -> None:
    db = Database(url)
    try:
        async with db.transaction() as session:
            from sqlalchemy import delete

            await session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
            )
    finally:
        await db.dispose()


def _start_job_and_kill_its_worker(
    url: str, env: dict[str, str], client: DBOSClient, tmp_path: Path, executor_id: str
) -> str:
    """Seed expired records, enqueue the purge, and SIGKILL the worker mid-workflow: two one-row
    batches done, the workflow asleep before the third. Returns the job id."""
    asyncio.run(_seed_expired(url, RECORDS))
    job_id = f"purge-{uuid.uuid4().hex[:8]}"
    asyncio.run(_enqueue_purge(url, tmp_path, job_id))
    with worker(env, executor_id, tmp_path / "worker.log") as process:
        wait_for(lambda: asyncio.run(_count_expired(url)) <= RECORDS - 2, 60, "two batches")
        time.sleep(0.3)
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert _status(client, job_id)[0] == "PENDING"
    assert 0 < asyncio.run(_count_expired(url)) < RECORDS
    return job_id


def _finish_on(
    env: dict[str, str], client: DBOSClient, tmp_path: Path, executor_id: str, job_id: str
) -> str:
    """Run a worker until the job succeeds; the log of both workers, for failure messages."""
    log = tmp_path / "worker.log"
    with worker(env, executor_id, log):
        wait_for(lambda: _status(client, job_id)[0] == "SUCCESS", 60, f"{executor_id} to finish")
    return log.read_text()


def test_a_killed_worker_finishes_its_job_after_restart(
    crash_setup: tuple[str, dict[str, str], DBOSClient], tmp_path: Path
) -> None:
    url, env, client = crash_setup
    job_id = _start_job_and_kill_its_worker(url, env, client, tmp_path, "worker-a")
    log = _finish_on(env, client, tmp_path, "worker-a", job_id)
    _, executor, output = _status(client, job_id)
    # each batch's count was recorded once: a batch re-run after the crash would change the total
    assert output == RECORDS, log[-3000:]
    assert executor == "worker-a"
    assert asyncio.run(_count_expired(url)) == 0


def test_a_live_worker_takes_over_the_jobs_of_a_lost_one(
    crash_setup: tuple[str, dict[str, str], DBOSClient], tmp_path: Path
) -> None:
    url, env, client = crash_setup
    lost, rescuer = f"lost-{tmp_path.name}", f"rescuer-{tmp_path.name}"
    job_id = _start_job_and_kill_its_worker(url, env, client, tmp_path, lost)
    log = _finish_on(env, client, tmp_path, rescuer, job_id)
    _, executor, output = _status(client, job_id)
    assert output == RECORDS, log[-3000:]
    assert executor == rescuer
    assert "recovered_silent_worker" in log
    assert asyncio.run(_count_expired(url)) == 0
