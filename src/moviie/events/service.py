"""Events: the one way anything tells the outside world what happened (webhooks deliver them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Event
from moviie.db.types import utcnow
from moviie.ids import new_id


async def emit_event(
    session: AsyncSession, account_id: str, event_type: str, data: dict[str, Any]
) -> Event:
    """Record `event_type` in the caller's transaction: it exists if, and only if, what it
    describes was committed."""
    event = Event(
        id=new_id("evt"), account_id=account_id, type=event_type, data=data, created_at=utcnow()
    )
    session.add(event)
    await session.flush()
    return event
