"""Storage quota: checked before any byte is kept, and counted atomically when it is."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.accounts import repository
from moviie.db.models import Account
from moviie.errors import MoviieError
from moviie.plans.catalog import get_plan


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
    available = max(get_plan(account.plan).storage_bytes - account.storage_bytes, 0)
    if nbytes > available:
        raise _refuse(nbytes, available)


async def reserve_storage(session: AsyncSession, account_id: str, nbytes: int) -> None:
    account = await repository.get(session, account_id)
    if account is None:
        raise RuntimeError(f"account {account_id} vanished")
    quota = get_plan(account.plan).storage_bytes
    if not await repository.add_storage_within(session, account_id, nbytes, quota):
        await session.refresh(account, ["storage_bytes"])
        raise _refuse(nbytes, max(quota - account.storage_bytes, 0))


async def release_storage(session: AsyncSession, account_id: str, nbytes: int) -> None:
    await repository.release_storage(session, account_id, nbytes)
