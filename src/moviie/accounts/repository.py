from __future__ import annotations

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Account, DashboardSession


async def get_by_email(session: AsyncSession, email: str) -> Account | None:
    return (await session.scalars(select(Account).where(Account.email == email))).one_or_none()


async def get(session: AsyncSession, account_id: str) -> Account | None:
    return await session.get(Account, account_id)


async def count(session: AsyncSession) -> int:
    return int((await session.scalar(select(func.count()).select_from(Account))) or 0)


async def add_storage_within(
    session: AsyncSession, account_id: str, nbytes: int, quota: int
) -> bool:
    """Count `nbytes` more stored, only if that stays within `quota` (one atomic statement)."""
    result = await session.execute(
        update(Account)
        .where(Account.id == account_id, Account.storage_bytes + nbytes <= quota)
        .values(storage_bytes=Account.storage_bytes + nbytes)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def release_storage(session: AsyncSession, account_id: str, nbytes: int) -> None:
    await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(
            storage_bytes=case(
                (Account.storage_bytes > nbytes, Account.storage_bytes - nbytes), else_=0
            )
        )
    )


async def close_dashboard_sessions(session: AsyncSession, account_id: str) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.account_id == account_id))
