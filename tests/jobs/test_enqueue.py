from __future__ import annotations

import uuid

import pytest
from dbos import DBOSClient

from moviie.config import Settings
from moviie.db.engine import Database
from moviie.jobs.client import JobClient
from moviie.jobs.urls import system_database_url
from moviie.maintenance.tasks import purge_expired_idempotency_records


class Rollback(Exception):
    pass


async def test_a_job_is_enqueued_only_if_its_transaction_commits(
    settings: Settings, db: Database
) -> None:
    jobs = JobClient(settings)
    client = DBOSClient(system_database_url=system_database_url(settings.resolved_database_url))
    committed, rolled_back = f"job-{uuid.uuid4().hex}", f"job-{uuid.uuid4().hex}"
    try:
        async with db.transaction() as session:
            await jobs.enqueue_in(
                session, "maintenance", purge_expired_idempotency_records, job_id=committed
            )
        with pytest.raises(Rollback):  # noqa: PT012 - the rollback is what is under test
            async with db.transaction() as session:
                await jobs.enqueue_in(
                    session, "maintenance", purge_expired_idempotency_records, job_id=rolled_back
                )
                raise Rollback
        found = await client.list_workflows_async(
            workflow_ids=[committed, rolled_back], load_input=False
        )
        assert [(w.workflow_id, w.status, w.queue_name) for w in found] == [
            (committed, "ENQUEUED", "maintenance")
        ]
    finally:
        await client.cancel_workflow_async(committed)  # no worker should pick it up later
        client.destroy()
        jobs.close()
