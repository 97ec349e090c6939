"""Starting and stopping the durable engine in a worker (or `serve`) process."""

from __future__ import annotations

from collections.abc import Sequence

from dbos import DBOS

from moviie.config import Settings
from moviie.jobs.queues import APP_NAME, ENGINE_QUEUES, WORKFLOW_VERSION
from moviie.jobs.urls import system_database_url
from moviie.log import get_logger

log = get_logger("moviie.jobs")


def migrate_engine(settings: Settings) -> None:
    """Create or upgrade the engine's own tables (run by `moviie migrate`)."""
    DBOS.migrate(system_database_url(settings.resolved_database_url))


async def launch_engine(settings: Settings, queues: Sequence[str]) -> None:
    """Run workflows from `queues` in this process, on the running event loop.

    Workflows and steps must already be imported (decorated) when this is called."""
    unknown = sorted(set(queues) - set(ENGINE_QUEUES))
    if unknown:
        raise ValueError(f"unknown queues: {', '.join(unknown)}")
    DBOS(
        config={
            "name": APP_NAME,
            "system_database_url": system_database_url(settings.resolved_database_url),
            "application_version": WORKFLOW_VERSION,
            "executor_id": settings.executor_id,
            "log_level": "WARNING",
        }
    )
    try:
        DBOS.listen_queues(list(queues))
        DBOS.launch()
    except BaseException:
        DBOS.destroy(destroy_registry=False)  # a half-launched engine would refuse the next launch
        raise
    for name in ENGINE_QUEUES:
        await DBOS.register_queue_async(
            name,
            polling_interval_sec=settings.queue_polling_interval_s,
            worker_concurrency=settings.worker_concurrency,
        )
    log.info("jobs_engine_started", executor_id=settings.executor_id, queues=list(queues))


def shutdown_engine(grace_s: int = 0) -> None:
    """Stop taking work, give the workflows running here up to `grace_s` to finish (what does
    not finish is resumed later, from its last step, by a restart or another worker), stop."""
    DBOS.destroy(destroy_registry=False, workflow_completion_timeout_sec=grace_s)
