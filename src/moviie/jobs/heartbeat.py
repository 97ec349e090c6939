"""Worker heartbeats, so that a lost worker's jobs can be taken over by a live one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Worker


async def beat(
    session: AsyncSession, executor_id: str, queues: Sequence[str], now: datetime
) -> None:
    row = await session.get(Worker, executor_id)
    if row is None:
        session.add(
            Worker(executor_id=executor_id, queues=list(queues), started_at=now, last_seen_at=now)
        )
    else:
        row.queues = list(queues)
        row.last_seen_at = now
    await session.flush()


async def silent_workers(session: AsyncSession, cutoff: datetime, exclude: str) -> list[Worker]:
    """Workers that stopped beating before `cutoff` and whose jobs were not taken over since."""
    stmt = select(Worker).where(
        Worker.last_seen_at < cutoff,
        Worker.executor_id != exclude,
        (Worker.recovered_at.is_(None)) | (Worker.recovered_at < Worker.last_seen_at),
    )
    return list((await session.scalars(stmt)).all())


async def claim_recovery(session: AsyncSession, worker: Worker, now: datetime) -> bool:
    """Mark `worker` as taken over; False when another worker claimed it first."""
    result = await session.execute(
        update(Worker)
        .where(
            Worker.executor_id == worker.executor_id,
            Worker.last_seen_at == worker.last_seen_at,
            (Worker.recovered_at.is_(None)) | (Worker.recovered_at < Worker.last_seen_at),
        )
        .values(recovered_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
