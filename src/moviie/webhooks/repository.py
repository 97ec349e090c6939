from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from moviie.db.pagination import keyset_page

ACTIVE = ("pending", "retrying")  # deliveries with an attempt still to come


async def get_endpoint(
    session: AsyncSession, account_id: str, endpoint_id: str, *, for_update: bool = False
) -> WebhookEndpoint | None:
    stmt = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.account_id == account_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def list_endpoints(
    session: AsyncSession, account_id: str, *, limit: int, after_id: str | None
) -> tuple[Sequence[WebhookEndpoint], bool]:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.account_id == account_id)
    return await keyset_page(session, stmt, WebhookEndpoint.id, limit=limit, after_id=after_id)


async def enabled_endpoints(session: AsyncSession, account_id: str) -> Sequence[WebhookEndpoint]:
    stmt = select(WebhookEndpoint).where(
        WebhookEndpoint.account_id == account_id, WebhookEndpoint.enabled.is_(True)
    )
    return (await session.scalars(stmt.order_by(WebhookEndpoint.id))).all()


async def get_delivery(
    session: AsyncSession, account_id: str, delivery_id: str
) -> WebhookDelivery | None:
    stmt = select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.account_id == account_id
    )
    return (await session.scalars(stmt)).one_or_none()


async def list_deliveries(
    session: AsyncSession,
    account_id: str,
    *,
    endpoint_id: str | None = None,
    event_id: str | None = None,
    status: str | None = None,
    limit: int,
    after_id: str | None,
) -> tuple[Sequence[WebhookDelivery], bool]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.account_id == account_id)
    if endpoint_id is not None:
        stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
    if event_id is not None:
        stmt = stmt.where(WebhookDelivery.event_id == event_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return await keyset_page(session, stmt, WebhookDelivery.id, limit=limit, after_id=after_id)


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[str]
) -> dict[str, list[WebhookAttempt]]:
    found: dict[str, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
    if delivery_ids:
        stmt = (
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(delivery_ids))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
        )
        for attempt in (await session.scalars(stmt)).all():
            found[attempt.delivery_id].append(attempt)
    return found


async def failed_event_ids(
    session: AsyncSession, endpoint_id: str, since: datetime, until: datetime
) -> list[str]:
    """Events of the range whose latest delivery to the endpoint failed, oldest first."""
    latest = (
        select(WebhookDelivery.event_id, func.max(WebhookDelivery.id).label("last_id"))
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .group_by(WebhookDelivery.event_id)
        .subquery()
    )
    stmt = (
        select(Event.id)
        .join(latest, latest.c.event_id == Event.id)
        .join(WebhookDelivery, WebhookDelivery.id == latest.c.last_id)
        .where(
            WebhookDelivery.status == "failed",
            Event.created_at >= since,
            Event.created_at < until,
        )
        .order_by(Event.id)
    )
    return list((await session.scalars(stmt)).all())


async def get_event(session: AsyncSession, account_id: str, event_id: str) -> Event | None:
    stmt = select(Event).where(Event.id == event_id, Event.account_id == account_id)
    return (await session.scalars(stmt)).one_or_none()


async def list_events(
    session: AsyncSession,
    account_id: str,
    *,
    event_type: str | None,
    limit: int,
    after_id: str | None,
) -> tuple[Sequence[Event], bool]:
    stmt = select(Event).where(Event.account_id == account_id)
    if event_type is not None:
        stmt = stmt.where(Event.type == event_type)
    return await keyset_page(session, stmt, Event.id, limit=limit, after_id=after_id)


CLAIM_LOCK = 0x6D6F7669  # PostgreSQL advisory lock: one claim at a time across dispatchers


def _due_and_free(now: datetime) -> list[ColumnElement[bool]]:
    d = WebhookDelivery
    return [
        d.status.in_(ACTIVE),
        d.next_attempt_at <= now,
        or_(d.lease_expires_at.is_(None), d.lease_expires_at <= now),
    ]


async def any_claimable(session: AsyncSession, now: datetime) -> bool:
    """A read-only look first, so an idle dispatcher never takes the write lock."""
    stmt = select(WebhookDelivery.id).where(*_due_and_free(now)).limit(1)
    return (await session.scalar(stmt)) is not None


async def claim_due(
    session: AsyncSession, now: datetime, lease_until: datetime, *, limit: int, per_endpoint: int
) -> list[str]:
    """Lease up to `limit` due deliveries until `lease_until`, oldest due first, leaving every
    endpoint at most `per_endpoint` leased across all dispatchers: an endpoint that has that
    many in flight takes no more (a slow one never fills the slots). Claims are serialized (the
    write lock on SQLite, an advisory lock on PostgreSQL), so the counts they see are exact."""
    d = WebhookDelivery
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK)))
    leased = select(d.endpoint_id).where(
        d.lease_expires_at.is_not(None), d.lease_expires_at > now, d.status.in_(ACTIVE)
    )
    held = Counter((await session.scalars(leased)).all())
    full = [e for e, n in held.items() if n >= per_endpoint]
    picked: list[str] = []
    after: tuple[datetime | None, str] | None = None
    page = max(limit * 2, 32)
    while len(picked) < limit:
        stmt = select(d.id, d.endpoint_id, d.next_attempt_at).where(*_due_and_free(now))
        if full:
            stmt = stmt.where(d.endpoint_id.not_in(full))
        if after is not None:
            stmt = stmt.where(tuple_(d.next_attempt_at, d.id) > tuple_(*after))
        rows = (await session.execute(stmt.order_by(d.next_attempt_at, d.id).limit(page))).all()
        for delivery_id, endpoint_id, due_at in rows:
            after = (due_at, delivery_id)
            if held[endpoint_id] < per_endpoint:
                held[endpoint_id] += 1
                picked.append(delivery_id)
                if len(picked) == limit:
                    break
        if len(rows) < page:
            break
        full = [e for e, n in held.items() if n >= per_endpoint]
    if not picked:
        return []
    lease = (
        update(d)
        .where(d.id.in_(picked), *_due_and_free(now))
        .values(lease_expires_at=lease_until)
        .returning(d.id)
        .execution_options(synchronize_session=False)
    )
    return list((await session.scalars(lease)).all())


async def claimed_rows(
    session: AsyncSession, delivery_ids: Sequence[str]
) -> list[tuple[WebhookDelivery, WebhookEndpoint, Event]]:
    """The deliveries with their endpoint and event, oldest due first. Three primary-key
    lookups: a join lets PostgreSQL hash the whole events table."""
    d = WebhookDelivery
    stmt = select(d).where(d.id.in_(delivery_ids)).order_by(d.next_attempt_at, d.id)
    deliveries = (await session.scalars(stmt)).all()
    endpoint_ids = {x.endpoint_id for x in deliveries}
    event_ids = {x.event_id for x in deliveries}
    endpoints = await session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids))
    )
    by_endpoint = {e.id: e for e in endpoints.all()}
    by_event = {
        e.id: e for e in (await session.scalars(select(Event).where(Event.id.in_(event_ids)))).all()
    }
    return [(x, by_endpoint[x.endpoint_id], by_event[x.event_id]) for x in deliveries]


async def release_leases(session: AsyncSession, delivery_ids: Sequence[str]) -> None:
    """Give attempts back that a stopping dispatcher did not finish: the next one takes them."""
    stmt = (
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(delivery_ids))
        .values(lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def locked_endpoints(
    session: AsyncSession, endpoint_ids: Sequence[str]
) -> dict[str, WebhookEndpoint]:
    """Locked in id order, before any delivery row: every writer of an endpoint's state takes
    its lock first, so two dispatchers recording for one endpoint never deadlock."""
    stmt = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id.in_(endpoint_ids))
        .order_by(WebhookEndpoint.id)
        .with_for_update()
    )
    return {e.id: e for e in (await session.scalars(stmt)).all()}


async def deliveries_by_id(
    session: AsyncSession, delivery_ids: Sequence[str]
) -> dict[str, WebhookDelivery]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids))
    return {d.id: d for d in (await session.scalars(stmt)).all()}


async def fail_active_deliveries(
    session: AsyncSession, endpoint_id: str, now: datetime, reason: str
) -> None:
    """End every delivery of a disabled endpoint that still had an attempt to come."""
    stmt = (
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status.in_(ACTIVE))
        .values(status="failed", finished_at=now, last_error=reason, lease_expires_at=None)
        .execution_options(synchronize_session="fetch")
    )
    await session.execute(stmt)


async def add_attempts(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    if rows:
        await session.execute(insert(WebhookAttempt), rows)
