"""Maintenance jobs: expiring idempotency records and dashboard sessions (hourly)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dbos import DBOS

from moviie.db.types import utcnow
from moviie.jobs.runtime import runtime
from moviie.maintenance import repository

PURGE_BATCH = 500
PURGE_PAUSE_S = 0.5  # between batches, so a large purge never monopolises the database


@DBOS.step()
async def purge_idempotency_batch(limit: int) -> int:
    async with runtime().db.transaction() as session:
        return await repository.delete_expired_idempotency_records(session, utcnow(), limit)


@DBOS.workflow()
async def purge_expired_idempotency_records(
    batch: int = PURGE_BATCH, pause_s: float = PURGE_PAUSE_S
) -> int:
    """Delete records past their 24 h, batch by batch; returns how many went."""
    total = 0
    while True:
        deleted = await purge_idempotency_batch(batch)
        total += deleted
        if deleted < batch:
            return total
        await DBOS.sleep_async(pause_s)


@DBOS.step()
async def purge_dashboard_sessions() -> int:
    async with runtime().db.transaction() as session:
        return await repository.delete_expired_dashboard_sessions(session, utcnow())


@DBOS.workflow()
async def scheduled_purge_expired_idempotency_records(_when: datetime, _context: Any) -> int:
    await purge_dashboard_sessions()
    return await purge_expired_idempotency_records()
