from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from moviie.db.pagination import keyset_page


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
