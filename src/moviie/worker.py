"""Worker processes: every workflow module is imported here, then the engine runs them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from dbos import DBOS

from moviie.ai import tasks as ai_tasks
from moviie.analytics import tasks as analytics_tasks
from moviie.config import Settings
from moviie.credits import tasks as credit_tasks
from moviie.db.engine import Database
from moviie.db.types import utcnow
from moviie.dubbing import tasks as dubbing_tasks
from moviie.ebook import tasks as ebook_tasks
from moviie.jobs import heartbeat
from moviie.jobs.client import shared_job_client
from moviie.jobs.engine import launch_engine, shutdown_engine
from moviie.jobs.queues import ENGINE_QUEUES, QUEUES
from moviie.jobs.recovery import recover_workflows_of
from moviie.jobs.runtime import JobRuntime, set_runtime
from moviie.log import get_logger
from moviie.maintenance import tasks as maintenance_tasks
from moviie.media import tasks as media_tasks
from moviie.net.guard import guarded_client
from moviie.quiz import tasks as quiz_tasks
from moviie.reels import tasks as reel_tasks
from moviie.storage.base import Storage
from moviie.storage.factory import open_storage
from moviie.subtitles import tasks as subtitle_tasks
from moviie.uploads import ingest as ingest_tasks
from moviie.uploads import tasks as upload_tasks
from moviie.videos import tasks as video_tasks
from moviie.webhooks.dispatcher import Dispatcher

# Every workflow must be registered before the engine launches: importing the modules does it.
WORKFLOW_MODULES = (
    ai_tasks,
    analytics_tasks,
    credit_tasks,
    subtitle_tasks,
    reel_tasks,
    quiz_tasks,
    dubbing_tasks,
    ebook_tasks,
    maintenance_tasks,
    media_tasks,
    video_tasks,
    ingest_tasks,
    upload_tasks,
)

log = get_logger("moviie.worker")

SCHEDULES = [
    {
        "schedule_name": "purge-expired-idempotency-records",
        "workflow_fn": maintenance_tasks.scheduled_purge_expired_idempotency_records,
        "schedule": "0 7 * * * *",  # hourly
        "queue_name": "maintenance",
    },
    {
        "schedule_name": "renew-monthly-credits",
        "workflow_fn": credit_tasks.scheduled_renew_monthly_credits,
        "schedule": "0 5 0 * * *",  # daily at 00:05 UTC: accounts whose month turned
        "queue_name": "maintenance",
    },
    {
        "schedule_name": "roll-up-analytics",
        "workflow_fn": analytics_tasks.scheduled_roll_up_analytics,
        "schedule": "0 * * * * *",  # every minute
        "queue_name": "maintenance",
    },
    {
        "schedule_name": "expire-uploads",
        "workflow_fn": upload_tasks.scheduled_expire_uploads,
        "schedule": "0 */10 * * * *",  # every ten minutes
        "queue_name": "maintenance",
    },
]


class WorkerProcess:
    """The durable engine (for its queues), the webhook dispatcher (for `webhooks`), this
    worker's heartbeat and the reaper of silent workers."""

    def __init__(
        self,
        settings: Settings,
        queues: Sequence[str],
        db: Database | None = None,
        storage: Storage | None = None,
    ):
        unknown = sorted(set(queues) - set(QUEUES))
        if unknown:
            raise ValueError(f"unknown queues: {', '.join(unknown)}")
        self.settings = settings
        self.queues = list(queues)
        self.engine_queues = [q for q in self.queues if q in ENGINE_QUEUES]
        self.db = db or Database(settings.resolved_database_url)
        self.storage = storage or open_storage(settings)
        self._owns_db = db is None
        self._owns_storage = storage is None
        self.jobs = shared_job_client(settings.resolved_database_url)
        self.webhook_client = (
            guarded_client(
                allow_private=settings.webhooks_allow_private,
                timeout=settings.webhook_timeout_s,
                limits=httpx.Limits(
                    max_connections=settings.webhook_concurrency,
                    max_keepalive_connections=settings.webhook_concurrency,
                ),
            )
            if "webhooks" in self.queues
            else None
        )
        self.dispatcher = (
            Dispatcher(settings, self.db, self.webhook_client) if self.webhook_client else None
        )
        self._beat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        set_runtime(
            JobRuntime(
                settings=self.settings,
                db=self.db,
                storage=self.storage,
                jobs=self.jobs,
            )
        )
        if self.engine_queues:
            await launch_engine(self.settings, self.engine_queues)
        if "maintenance" in self.queues and self.settings.maintenance_schedules:
            await DBOS.apply_schedules_async(SCHEDULES)  # type: ignore[arg-type]
        if self.dispatcher is not None:
            await self.dispatcher.start()
        await self.beat_once()
        self._beat = asyncio.create_task(self._beat_forever())

    async def stop(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
        grace = self.settings.worker_shutdown_grace_s
        if self.dispatcher is not None:
            await self.dispatcher.stop(grace)
        if self.engine_queues:
            # The engine makes its thread pool this loop's default executor (again on every
            # step a workflow on this loop finishes): give the loop a pool of its own before the
            # engine shuts its pool down and once more after, or later `to_thread` calls fail.
            loop = asyncio.get_running_loop()
            own = ThreadPoolExecutor(thread_name_prefix="moviie")
            loop.set_default_executor(own)
            await loop.run_in_executor(own, shutdown_engine, grace)
            loop.set_default_executor(own)
        set_runtime(None)
        if self.webhook_client is not None:
            await self.webhook_client.aclose()
        if self._owns_db:
            await self.db.dispose()
        if self._owns_storage:
            await self.storage.close()

    async def beat_once(self) -> None:
        now = utcnow()
        async with self.db.transaction() as session:
            await heartbeat.beat(session, self.settings.executor_id, self.queues, now)
        await self.reap_silent_workers()

    async def reap_silent_workers(self) -> None:
        if not self.engine_queues:
            return  # recovering a lost worker's jobs takes the engine; others do it
        now = utcnow()
        cutoff = now - timedelta(seconds=self.settings.worker_dead_after_s)
        async with self.db.transaction() as session:
            silent = await heartbeat.silent_workers(session, cutoff, self.settings.executor_id)
            claimed = [
                w.executor_id for w in silent if await heartbeat.claim_recovery(session, w, now)
            ]
        for executor_id in claimed:
            count = await recover_workflows_of(executor_id)
            log.warning("recovered_silent_worker", lost_executor_id=executor_id, workflows=count)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.worker_heartbeat_s)
            try:
                await self.beat_once()
            except Exception:
                log.exception("heartbeat_failed")
