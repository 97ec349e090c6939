from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Account


async def get_by_email(session: AsyncSession, email: str) -> Account | None:
    return (await session.scalars(select(Account).where(Account.email == email))).one_or_none()


async def get(session: AsyncSession, account_id: str) -> Account | None:
    return await session.get(Account, account_id)


async def count(session: AsyncSession) -> int:
    return int((await session.scalar(select(func.count()).select_from(Account))) or 0)
