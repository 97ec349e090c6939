"""Creating, listing and revoking API keys; finding the key behind a request."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.api_keys import repository
from moviie.api_keys.schemas import ApiKeyOut
from moviie.api_keys.scopes import PRIVATE_SCOPES
from moviie.api_keys.tokens import (
    PREFIXES,
    KeyType,
    generate_key,
    hash_key,
    key_matches,
    parse_key,
)
from moviie.db.models import Account, ApiKey
from moviie.db.types import utcnow
from moviie.errors import InsufficientScope, NotFound, ValidationFailed
from moviie.ids import new_id

# last_used_at is written at most this often per key, so a busy key costs no write per request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


@dataclass(frozen=True)
class CreatedKey:
    row: ApiKey
    key: str


async def create_key(
    session: AsyncSession,
    account_id: str,
    *,
    name: str,
    key_type: KeyType = "private",
    scopes: Sequence[str] | None = None,
    granted_by: Iterable[str] = PRIVATE_SCOPES,
) -> CreatedKey:
    """A new key; it may hold only scopes that `granted_by` (the creating key's) holds."""
    if key_type == "publishable" and scopes:
        raise ValidationFailed("Publishable keys have fixed playback scopes; omit `scopes`.")
    unknown = sorted(set(scopes or ()) - set(PRIVATE_SCOPES))
    if unknown:
        raise ValidationFailed(f"Unknown scopes: {', '.join(unknown)}.", param="scopes")
    wanted = set(scopes or PRIVATE_SCOPES) if key_type == "private" else set()
    beyond = sorted(wanted - set(granted_by))
    if beyond:
        raise InsufficientScope(
            f"A key may not grant scopes it lacks: {', '.join(beyond)}.", param="scopes"
        )
    key, selector = generate_key(key_type)
    row = ApiKey(
        id=new_id("key"),
        account_id=account_id,
        name=name,
        type=key_type,
        scopes=sorted(set(scopes)) if scopes else None,
        selector=selector,
        secret_hash=hash_key(key),
        last4=key[-4:],
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return CreatedKey(row=row, key=key)


def key_view(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        name=row.name,
        type=row.type,
        scopes=row.scopes,
        prefix=PREFIXES[row.type] + row.selector[:4],  # type: ignore[index]
        last4=row.last4,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


async def list_keys(
    session: AsyncSession, account_id: str, *, limit: int, after_id: str | None
) -> tuple[Sequence[ApiKey], bool]:
    return await repository.list_for_account(session, account_id, limit=limit, after_id=after_id)


async def revoke_key(session: AsyncSession, account_id: str, key_id: str) -> None:
    row = await repository.get_for_account(session, account_id, key_id)
    if row is None:
        raise ApiKeyNotFound(f"No API key {key_id}.")
    row.revoked_at = utcnow()
    await session.flush()


# Built once: this runs on every authenticated request.
_KEY_WITH_ACCOUNT = (
    select(ApiKey, Account)
    .join(Account, Account.id == ApiKey.account_id)
    .where(ApiKey.selector == bindparam("selector"), ApiKey.revoked_at.is_(None))
)


async def find_key(session: AsyncSession, raw_key: str) -> tuple[ApiKey, Account] | None:
    """The active key behind `raw_key` and its account, or None; compared in constant time."""
    parsed = parse_key(raw_key)
    if parsed is None:
        return None
    found = (await session.execute(_KEY_WITH_ACCOUNT, {"selector": parsed.selector})).one_or_none()
    if found is None:
        return None
    key, account = found
    if key.type != parsed.type or not key_matches(parsed.full, key.secret_hash):
        return None
    return key, account


def last_used_is_stale(key: ApiKey, now: datetime) -> bool:
    return key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION


async def record_use(session: AsyncSession, key_id: str, now: datetime) -> None:
    await repository.touch_last_used(session, key_id, now)
