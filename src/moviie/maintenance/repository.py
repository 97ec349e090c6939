from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import DashboardSession, IdempotencyRecord


async def delete_expired_idempotency_records(
    session: AsyncSession, now: datetime, limit: int
) -> int:
    expired = (
        select(IdempotencyRecord.id)
        .where(IdempotencyRecord.expires_at <= now)
        .order_by(IdempotencyRecord.id)
        .limit(limit)
    )
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(expired.scalar_subquery()))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def delete_expired_dashboard_sessions(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        delete(DashboardSession).where(DashboardSession.expires_at <= now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
