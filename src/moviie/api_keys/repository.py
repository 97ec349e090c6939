from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import ApiKey
from moviie.db.pagination import keyset_page


async def get_for_account(session: AsyncSession, account_id: str, key_id: str) -> ApiKey | None:
    stmt = select(ApiKey).where(
        ApiKey.id == key_id, ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None)
    )
    return (await session.scalars(stmt)).one_or_none()


async def list_for_account(
    session: AsyncSession, account_id: str, *, limit: int, after_id: str | None
) -> tuple[Sequence[ApiKey], bool]:
    stmt = select(ApiKey).where(ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None))
    return await keyset_page(session, stmt, ApiKey.id, limit=limit, after_id=after_id)


async def touch_last_used(session: AsyncSession, key_id: str, when: datetime) -> None:
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=when))
