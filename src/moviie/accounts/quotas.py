"""Quotas: the trial's end (no new uploads or AI jobs after it), storage checked before any
byte is kept and counted atomically when it is, with `storage.threshold` at 80% and 100%."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.accounts import repository
from moviie.db.models import Account
from moviie.db.types import utcnow
from moviie.errors import MoviieError
from moviie.events.service import emit_event
from moviie.plans.catalog import account_plan
from moviie.usage.thresholds import crossed


class TrialExpired(MoviieError):
    status = 402
    code = "trial_expired"
    title = "The trial has ended"


def ensure_trial_active(account: Account, now: datetime | None = None) -> None:
    """After a trial ends without a plan, nothing new comes in (uploads, AI jobs); what exists
    keeps playing."""
    ends = account.trial_ends_at
    if ends is not None and ends <= (now or utcnow()):
        raise TrialExpired(
            f"The trial ended on {ends:%Y-%m-%d}; choose a plan to upload and make materials.",
            trial_ended_at=ends.isoformat(),
        )


class StorageQuotaExceeded(MoviieError):
    status = 402
    code = "storage_quota_exceeded"
    title = "This upload would exceed the plan's storage"


def _refuse(required: int, available: int) -> StorageQuotaExceeded:
    return StorageQuotaExceeded(
        f"{required} bytes needed, {available} available on this plan.",
        required=required,
        available=available,
        shortfall=required - available,
    )


def check_storage(account: Account, nbytes: int) -> None:
    """Refuse early (e.g. from a declared size); `reserve_storage` decides for good."""
    available = max(account_plan(account.plan).storage_bytes - account.storage_bytes, 0)
    if nbytes > available:
        raise _refuse(nbytes, available)


async def reserve_storage(session: AsyncSession, account_id: str, nbytes: int) -> None:
    account = await repository.get(session, account_id)
    if account is None:
        raise RuntimeError(f"account {account_id} vanished")
    quota = account_plan(account.plan).storage_bytes
    if not await repository.add_storage_within(session, account_id, nbytes, quota):
        await session.refresh(account, ["storage_bytes"])
        raise _refuse(nbytes, max(quota - account.storage_bytes, 0))
    await session.refresh(account, ["storage_bytes"])
    used = account.storage_bytes
    for percent in crossed(used - nbytes, used, quota):  # once per crossing, as it happens
        data = {"used_bytes": used, "quota_bytes": quota, "percent": percent}
        await emit_event(session, account_id, "storage.threshold", data)


async def release_storage(session: AsyncSession, account_id: str, nbytes: int) -> None:
    await repository.release_storage(session, account_id, nbytes)
