"""Events: the one way anything tells the outside world what happened (webhooks deliver them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Event
from moviie.db.types import utcnow
from moviie.ids import new_id
from moviie.webhooks.dispatch import fan_out


async def record_event(
    session: AsyncSession, account_id: str, event_type: str, data: dict[str, Any]
) -> Event:
    """The event row alone (`webhook.test` is delivered to one endpoint, not fanned out)."""
    event = Event(
        id=new_id("evt"), account_id=account_id, type=event_type, data=data, created_at=utcnow()
    )
    session.add(event)
    await session.flush()
    return event


async def emit_event(
    session: AsyncSession, account_id: str, event_type: str, data: dict[str, Any]
) -> Event:
    """Record `event_type` and its webhook deliveries in the caller's transaction: the event
    exists, and is delivered, if and only if what it describes was committed."""
    event = await record_event(session, account_id, event_type, data)
    await fan_out(session, event)
    return event
