"""From an event to deliveries: one row per subscribed, enabled endpoint, written in the same
transaction as the event (so no event is lost, none delivered that was rolled back). The row is
the durable state of the delivery: a dispatcher (webhooks/dispatcher.py) takes it up when due.
Dispatchers in this process are woken as soon as such a transaction commits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from moviie.db.models import Event, WebhookDelivery, WebhookEndpoint
from moviie.db.types import utcnow
from moviie.ids import new_id
from moviie.webhooks import repository

_DUE_FLAG = "webhook_deliveries_due"
_wake_callbacks: list[Callable[[], None]] = []


def subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return endpoint.events == ["*"] or event_type in endpoint.events


async def fan_out(session: AsyncSession, event: Event) -> list[WebhookDelivery]:
    endpoints = await repository.enabled_endpoints(session, event.account_id)
    return [
        await create_delivery(session, endpoint, event)
        for endpoint in endpoints
        if subscribed(endpoint, event.type)
    ]


async def create_delivery(
    session: AsyncSession, endpoint: WebhookEndpoint, event: Event
) -> WebhookDelivery:
    now = utcnow()
    delivery = WebhookDelivery(
        id=new_id("dlv"),
        account_id=event.account_id,
        endpoint_id=endpoint.id,
        event_id=event.id,
        event_type=event.type,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    await session.flush()
    session.info[_DUE_FLAG] = True
    return delivery


def on_deliveries_due(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` after each commit in this process that created deliveries; returns the
    function that unregisters it. Other processes' dispatchers find them by polling."""
    _wake_callbacks.append(callback)
    return lambda: _wake_callbacks.remove(callback)


@sa_event.listens_for(Session, "after_commit")
def _wake_dispatchers(session: Session) -> None:
    if session.info.pop(_DUE_FLAG, False):
        for callback in list(_wake_callbacks):
            callback()


@sa_event.listens_for(Session, "after_rollback")
def _forget_due(session: Session, *_: Any) -> None:
    session.info.pop(_DUE_FLAG, None)
