from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Job
from moviie.db.pagination import keyset_page


async def get(session: AsyncSession, account_id: str, job_id: str) -> Job | None:
    stmt = select(Job).where(Job.id == job_id, Job.account_id == account_id)
    return (await session.scalars(stmt)).one_or_none()


async def active_by_fingerprint(session: AsyncSession, fingerprint: str) -> Job | None:
    stmt = select(Job).where(Job.active_fingerprint == fingerprint)
    return (await session.scalars(stmt)).one_or_none()


async def list_jobs(
    session: AsyncSession,
    account_id: str,
    *,
    video_id: str | None,
    job_type: str | None,
    status: str | None,
    limit: int,
    after_id: str | None,
) -> tuple[Sequence[Job], bool]:
    stmt = select(Job).where(Job.account_id == account_id)
    if video_id is not None:
        stmt = stmt.where(Job.video_id == video_id)
    if job_type is not None:
        stmt = stmt.where(Job.type == job_type)
    if status is not None:
        stmt = stmt.where(Job.status == status)
    return await keyset_page(session, stmt, Job.id, limit=limit, after_id=after_id)


async def latest_succeeded(session: AsyncSession, video_id: str, material: str) -> Job | None:
    stmt = (
        select(Job)
        .where(Job.video_id == video_id, Job.type == material, Job.status == "succeeded")
        .order_by(Job.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).one_or_none()
