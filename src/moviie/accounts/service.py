"""Accounts: creation on a plan (new ones start on the trial), and their public view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.accounts import repository
from moviie.accounts.passwords import hash_password
from moviie.accounts.schemas import AccountOut, CreditsOut, PlanOut, UsageOut
from moviie.api_keys import service as api_keys
from moviie.credits import service as credits
from moviie.db.models import Account
from moviie.db.types import utcnow
from moviie.errors import Conflict, NotFound
from moviie.ids import new_id
from moviie.plans.catalog import account_plan, default_plan, get_plan
from moviie.usage.repository import bandwidth_since, month_start


class AccountNotFound(NotFound):
    code = "account_not_found"


class EmailTaken(Conflict):
    code = "email_taken"


@dataclass(frozen=True)
class NewAccount:
    account: Account
    private_key: str
    publishable_key: str


async def create_account(
    session: AsyncSession, *, email: str, name: str, plan: str | None = None
) -> NewAccount:
    """An account on `plan` (the default plan, a trial, when None) with one private and one
    publishable key."""
    email = email.strip().lower()
    chosen = get_plan(plan or default_plan())
    if await repository.get_by_email(session, email) is not None:
        raise EmailTaken(f"An account with {email} exists.")
    now = utcnow()
    account = Account(
        id=new_id("acct"),
        name=name,
        email=email,
        plan=chosen.name,
        trial_ends_at=now + timedelta(days=chosen.trial_days) if chosen.trial_days else None,
        storage_bytes=0,
        credits_balance=chosen.credits_month,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    await session.flush()
    await credits.open_account(session, account)
    private = await api_keys.create_key(session, account.id, name="default private key")
    publishable = await api_keys.create_key(
        session, account.id, name="default publishable key", key_type="publishable"
    )
    return NewAccount(account=account, private_key=private.key, publishable_key=publishable.key)


async def change_plan(session: AsyncSession, account: Account, plan_name: str) -> int:
    """Move the account to another plan: its quotas apply at once. A plan with more credits a
    month grants the difference now (the ledger says so); one with fewer waits for the next
    month's reset. Leaving a trial ends it. Returns the credits granted."""
    new, old = get_plan(plan_name), account_plan(account.plan)
    account.plan = new.name
    if new.trial_days is None:
        account.trial_ends_at = None
    elif account.trial_ends_at is None:
        account.trial_ends_at = utcnow() + timedelta(days=new.trial_days)
    account.updated_at = utcnow()
    await session.flush()
    more = new.credits_month - old.credits_month
    if more > 0:
        await credits.grant(session, account.id, more, f"plan {new.name}")
    return max(more, 0)


async def set_password(session: AsyncSession, account: Account, password: str) -> None:
    """The dashboard's password (argon2id); every browser signed in with the old one is
    signed out."""
    account.password_hash = hash_password(password)
    account.updated_at = utcnow()
    await repository.close_dashboard_sessions(session, account.id)
    await session.flush()


async def get_account(session: AsyncSession, account_id_or_email: str) -> Account:
    found = (
        await repository.get_by_email(session, account_id_or_email.strip().lower())
        if "@" in account_id_or_email
        else await repository.get(session, account_id_or_email)
    )
    if found is None:
        raise AccountNotFound(f"No account {account_id_or_email}.")
    return found


async def count_accounts(session: AsyncSession) -> int:
    return await repository.count(session)


async def account_with_usage(session: AsyncSession, account: Account) -> AccountOut:
    """The account against its plan: storage, this month's bandwidth, credits."""
    served = await bandwidth_since(session, account.id, month_start(utcnow().date()))
    return account_view(account, bandwidth_bytes_month=served)


def account_view(account: Account, bandwidth_bytes_month: int = 0) -> AccountOut:
    plan = account_plan(account.plan)
    return AccountOut(
        id=account.id,
        name=account.name,
        email=account.email,
        plan=PlanOut(
            name=plan.name,
            storage_bytes=plan.storage_bytes,
            bandwidth_bytes_month=plan.bandwidth_bytes_month,
            credits_month=plan.credits_month,
        ),
        usage=UsageOut(
            storage_bytes=account.storage_bytes,
            bandwidth_bytes_month=bandwidth_bytes_month,
        ),
        credits=CreditsOut(balance=account.credits_balance),
        trial_ends_at=account.trial_ends_at,
        created_at=account.created_at,
    )
