"""Credits: every change to a balance is a ledger row written in the same transaction, so the
balance always equals the ledger's sum. Debits are one conditional update (two concurrent jobs
cannot both spend the last credits); a job's refund is unique in the ledger (exactly once)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.credits import repository
from moviie.credits.schemas import LedgerEntryOut
from moviie.db.models import Account, CreditEntry, Job
from moviie.db.types import utcnow
from moviie.errors import InsufficientCredits
from moviie.events.service import emit_event
from moviie.ids import new_id
from moviie.plans.catalog import account_plan

LOW_BALANCE_FRACTION = 0.10


async def _write(
    session: AsyncSession,
    account_id: str,
    kind: str,
    amount: int,
    balance_after: int,
    *,
    job_id: str | None = None,
    note: str = "",
) -> CreditEntry:
    entry = CreditEntry(
        id=new_id("cre"),
        account_id=account_id,
        kind=kind,
        amount=amount,
        balance_after=balance_after,
        job_id=job_id,
        note=note,
        created_at=utcnow(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def debit_for_job(session: AsyncSession, account: Account, job: Job, amount: int) -> None:
    """Charge `amount` for `job`, or refuse with 402 and the shortfall (nothing written)."""
    after = await repository.add_to_balance(session, account.id, -amount, floor=0)
    if after is None:
        balance = await repository.balance(session, account.id)
        raise InsufficientCredits(
            f"This job costs {amount} credits; the balance is {balance}.",
            required=amount,
            balance=balance,
            shortfall=amount - balance,
        )
    await _write(session, account.id, "debit", -amount, after, job_id=job.id, note=job.type)
    await _warn_if_low(session, account, before=after + amount, after=after)


async def refund_job(session: AsyncSession, job: Job) -> int:
    """Give back what `job` was charged, once: a second call (a replayed step) refunds nothing."""
    if job.credits_charged <= 0 or await repository.entry_for_job(session, job.id, "refund"):
        return 0
    after = await repository.add_to_balance(
        session, job.account_id, job.credits_charged, floor=None
    )
    assert after is not None
    await _write(
        session, job.account_id, "refund", job.credits_charged, after, job_id=job.id, note=job.type
    )
    return job.credits_charged


async def grant(session: AsyncSession, account_id: str, amount: int, note: str = "") -> int:
    """Add (or, negative, take back) credits by hand; the balance may not go below zero."""
    after = await repository.add_to_balance(session, account_id, amount, floor=0)
    if after is None:
        balance = await repository.balance(session, account_id)
        raise InsufficientCredits(
            f"Taking {-amount} credits would leave a negative balance ({balance} held).",
            required=-amount,
            balance=balance,
            shortfall=-amount - balance,
        )
    await _write(session, account_id, "grant", amount, after, note=note or "manual grant")
    return after


async def open_account(session: AsyncSession, account: Account) -> None:
    """A new account starts with its plan's month of credits, as a ledger row."""
    month = month_start(utcnow())
    account.credits_month_start = month
    await _write(
        session, account.id, "grant", account.credits_balance, account.credits_balance,
        note=f"{account.plan} plan credits for {month:%Y-%m}",
    )  # fmt: skip


async def renew_month(session: AsyncSession, account_id: str, now: datetime) -> bool:
    """On a new month the balance is reset to the plan's month of credits (unused credits do not
    carry over; granted ones neither). False when this month is already renewed."""
    month = month_start(now)
    account = await session.get(Account, account_id, with_for_update=True)
    if account is None or (
        account.credits_month_start is not None and account.credits_month_start >= month
    ):
        return False
    target = account_plan(account.plan).credits_month
    change = target - account.credits_balance
    account.credits_balance = target
    account.credits_month_start = month
    await session.flush()
    await _write(session, account.id, "reset", change, target, note=f"{month:%Y-%m}")
    return True


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def _warn_if_low(session: AsyncSession, account: Account, *, before: int, after: int) -> None:
    """`credits.low` once per crossing under 10% of the plan's month."""
    monthly = account_plan(account.plan).credits_month
    threshold = monthly * LOW_BALANCE_FRACTION
    if before >= threshold > after:
        await emit_event(
            session, account.id, "credits.low", {"balance": after, "credits_month": monthly}
        )


async def list_ledger(
    session: AsyncSession, account_id: str, *, limit: int, after_id: str | None
) -> tuple[Sequence[CreditEntry], bool]:
    return await repository.list_entries(session, account_id, limit=limit, after_id=after_id)


def entry_view(entry: CreditEntry) -> LedgerEntryOut:
    return LedgerEntryOut(
        id=entry.id,
        kind=entry.kind,
        amount=entry.amount,
        balance_after=entry.balance_after,
        job_id=entry.job_id,
        note=entry.note,
        created_at=entry.created_at,
    )
