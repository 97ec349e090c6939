"""Enqueueing durable jobs from any process, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dbos import DBOSClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from moviie.config import Settings
from moviie.jobs.queues import APP_NAME, WORKFLOW_VERSION, QueueName
from moviie.jobs.urls import system_database_url


def workflow_name(fn: Callable[..., Any] | str) -> str:
    return fn if isinstance(fn, str) else fn.__qualname__


class JobClient:
    """Created once per process; connects on first use so API-only paths never pay for it."""

    def __init__(self, settings: Settings | None = None, *, database_url: str | None = None):
        url = database_url or (settings.resolved_database_url if settings else None)
        if url is None:
            raise ValueError("JobClient needs settings or a database URL")
        self._url = system_database_url(url)
        self._client: DBOSClient | None = None

    @property
    def client(self) -> DBOSClient:
        if self._client is None:
            self._client = DBOSClient(
                system_database_url=self._url, application_name=APP_NAME, lazy=True
            )
        return self._client

    async def enqueue_in(
        self,
        session: AsyncSession,
        queue: QueueName,
        fn: Callable[..., Any] | str,
        *args: Any,
        job_id: str,
        partition_key: str | None = None,
        delay_s: float | None = None,
    ) -> None:
        """Enqueue `fn(*args)` (or the workflow of that name) on `queue` as part of `session`'s
        transaction: it runs only if the transaction commits, at most once per `job_id`, not
        before `delay_s` (a durable delay: no worker holds it meanwhile), and on a partitioned
        queue within its partition's limits."""
        options: Any = {
            "queue_name": queue,
            "workflow_name": workflow_name(fn),
            "workflow_id": job_id,
            "app_version": WORKFLOW_VERSION,
        }
        if partition_key is not None:
            options["queue_partition_key"] = partition_key
        if delay_s is not None and delay_s > 0:
            options["delay_seconds"] = delay_s

        def enqueue(sync_session: Session) -> None:
            self.client.enqueue_in_transaction(sync_session.connection(), options, *args)

        await session.run_sync(enqueue)

    def close(self) -> None:
        if self._client is not None:
            self._client.destroy()
            self._client = None


_shared: dict[str, JobClient] = {}


def shared_job_client(database_url: str) -> JobClient:
    """One client per database per process, whoever asks (the app, a worker, an event's fan-out
    deep in a transaction). It lives as long as the process: it is never closed and reopened in
    the middle of someone's write transaction (on SQLite, a client opening its own connection
    then would wait on the very lock that transaction holds)."""
    key = system_database_url(database_url)
    client = _shared.get(key)
    if client is None:
        client = _shared[key] = JobClient(database_url=database_url)
    return client


def job_client_for(session: AsyncSession) -> JobClient:
    """The process's client for the database `session` talks to."""
    return shared_job_client(session.get_bind().engine.url.render_as_string(hide_password=False))
