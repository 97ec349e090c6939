"""Signed-in browsers: a random token in an HttpOnly cookie, its SHA-256 in the database (a
leaked table opens nothing), 14 days, gone on sign-out; and the CSRF token every form and htmx
request must send back."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Account, DashboardSession

LIFETIME = timedelta(days=14)
COOKIE = "moviie_session"


@dataclass(frozen=True)
class SignedIn:
    account: Account
    session_id: str
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(session: AsyncSession, account: Account, now: datetime) -> str:
    """A new session for `account`; returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    session.add(
        DashboardSession(
            id=_digest(token),
            account_id=account.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    await session.flush()
    return token


async def signed_in(session: AsyncSession, token: str | None, now: datetime) -> SignedIn | None:
    if not token or len(token) > 100:
        return None
    row = await session.get(DashboardSession, _digest(token))
    if row is None or row.expires_at <= now:
        return None
    account = await session.get(Account, row.account_id)
    if account is None:
        return None
    return SignedIn(account=account, session_id=row.id, csrf_token=row.csrf_token)


async def close_session(session: AsyncSession, session_id: str) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.id == session_id))


def csrf_ok(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
