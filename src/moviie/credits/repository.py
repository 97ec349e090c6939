from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Account, CreditEntry
from moviie.db.pagination import keyset_page


async def add_to_balance(
    session: AsyncSession, account_id: str, amount: int, *, floor: int | None
) -> int | None:
    """Add `amount` (signed) to the balance in one statement, only if the result stays at or
    above `floor` (None: no floor). The new balance, or None when refused."""
    stmt = update(Account).where(Account.id == account_id)
    if floor is not None:
        stmt = stmt.where(Account.credits_balance + amount >= floor)
    stmt = stmt.values(credits_balance=Account.credits_balance + amount).returning(
        Account.credits_balance
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def balance(session: AsyncSession, account_id: str) -> int:
    stmt = select(Account.credits_balance).where(Account.id == account_id)
    return int((await session.execute(stmt)).scalar_one())


async def entry_for_job(session: AsyncSession, job_id: str, kind: str) -> CreditEntry | None:
    stmt = select(CreditEntry).where(CreditEntry.job_id == job_id, CreditEntry.kind == kind)
    return (await session.scalars(stmt)).one_or_none()


async def ledger_sum(session: AsyncSession, account_id: str) -> int:
    stmt = select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
        CreditEntry.account_id == account_id
    )
    return int((await session.execute(stmt)).scalar_one())


async def list_entries(
    session: AsyncSession, account_id: str, *, limit: int, after_id: str | None
) -> tuple[Sequence[CreditEntry], bool]:
    stmt = select(CreditEntry).where(CreditEntry.account_id == account_id)
    return await keyset_page(session, stmt, CreditEntry.id, limit=limit, after_id=after_id)


async def accounts_to_renew(session: AsyncSession, month_start: datetime) -> Sequence[str]:
    stmt = select(Account.id).where(
        (Account.credits_month_start.is_(None)) | (Account.credits_month_start < month_start)
    )
    return (await session.scalars(stmt)).all()
