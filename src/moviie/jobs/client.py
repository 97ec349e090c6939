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


def workflow_name(fn: Callable[..., Any]) -> str:
    return fn.__qualname__


class JobClient:
    """Created once per process; connects on first use so API-only paths never pay for it."""

    def __init__(self, settings: Settings) -> None:
        self._url = system_database_url(settings.resolved_database_url)
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
        fn: Callable[..., Any],
        *args: Any,
        job_id: str,
    ) -> None:
        """Enqueue `fn(*args)` on `queue` as part of `session`'s transaction: it runs only if the
        transaction commits, and at most once per `job_id`."""
        options: Any = {
            "queue_name": queue,
            "workflow_name": workflow_name(fn),
            "workflow_id": job_id,
            "app_version": WORKFLOW_VERSION,
        }

        def enqueue(sync_session: Session) -> None:
            self.client.enqueue_in_transaction(sync_session.connection(), options, *args)

        await session.run_sync(enqueue)

    def close(self) -> None:
        if self._client is not None:
            self._client.destroy()
            self._client = None
