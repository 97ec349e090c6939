"""Webhook endpoints, their secrets, the delivery log, retries and replays."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.config import Settings
from moviie.db.models import Event, WebhookDelivery, WebhookEndpoint
from moviie.db.types import utcnow
from moviie.events.service import record_event
from moviie.ids import new_id
from moviie.net.guard import check_url_target
from moviie.server_secret import SecretBox, load_server_secret
from moviie.webhooks import repository
from moviie.webhooks.dispatch import create_delivery
from moviie.webhooks.errors import DeliveryNotFound, EndpointNotFound, EventNotFound
from moviie.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    EndpointCreate,
    EndpointOut,
    EndpointUpdate,
    EndpointWithSecret,
    EventOut,
    RotatedSecret,
)
from moviie.webhooks.signing import new_secret

ROTATION_OVERLAP = timedelta(hours=24)


def secret_box(settings: Settings) -> SecretBox:
    return _box(load_server_secret(settings))


@functools.cache
def _box(secret: bytes) -> SecretBox:
    """One per server secret: the key derivation is not redone for every delivery attempt."""
    return SecretBox(secret, "webhook-secrets")


def signing_secrets(box: SecretBox, endpoint: WebhookEndpoint) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    found = [box.open(endpoint.secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires is not None and expires > utcnow():
        # A previous secret that no longer opens (the rotation that mended a changed server
        # key) is left out rather than failing the delivery.
        with contextlib.suppress(ValueError):
            found.append(box.open(endpoint.previous_secret_encrypted))
    return found


def endpoint_view(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        events=endpoint.events,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        failing_since=endpoint.failing_since,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


async def create_endpoint(
    session: AsyncSession, settings: Settings, account_id: str, body: EndpointCreate
) -> EndpointWithSecret:
    url = str(body.url)
    await check_url_target(url, allow_private=settings.webhooks_allow_private)
    secret = new_secret()
    now = utcnow()
    endpoint = WebhookEndpoint(
        id=new_id("whe"),
        account_id=account_id,
        url=url,
        description=body.description,
        events=body.events,
        enabled=True,
        secret_encrypted=secret_box(settings).seal(secret),
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return EndpointWithSecret(**endpoint_view(endpoint).model_dump(), secret=secret)


async def get_endpoint(
    session: AsyncSession, account_id: str, endpoint_id: str, *, for_update: bool = False
) -> WebhookEndpoint:
    endpoint = await repository.get_endpoint(
        session, account_id, endpoint_id, for_update=for_update
    )
    if endpoint is None:
        raise EndpointNotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


async def list_endpoints(
    session: AsyncSession, account_id: str, *, limit: int, after_id: str | None
) -> tuple[Sequence[WebhookEndpoint], bool]:
    return await repository.list_endpoints(session, account_id, limit=limit, after_id=after_id)


async def update_endpoint(
    session: AsyncSession,
    settings: Settings,
    account_id: str,
    endpoint_id: str,
    body: EndpointUpdate,
) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, account_id, endpoint_id, for_update=True)
    if body.url is not None:
        await check_url_target(str(body.url), allow_private=settings.webhooks_allow_private)
        endpoint.url = str(body.url)
    if body.events is not None:
        endpoint.events = body.events
    if body.description is not None:
        endpoint.description = body.description
    if body.enabled is not None and body.enabled != endpoint.enabled:
        endpoint.enabled = body.enabled
        endpoint.disabled_reason = None if body.enabled else "manual"
        if body.enabled:
            endpoint.failing_since = None  # a fresh start: the 5-day clock restarts
    endpoint.updated_at = utcnow()
    await session.flush()
    return endpoint


async def delete_endpoint(session: AsyncSession, account_id: str, endpoint_id: str) -> None:
    """Its deliveries go with it; attempts already queued find nothing and end."""
    endpoint = await get_endpoint(session, account_id, endpoint_id, for_update=True)
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    session: AsyncSession, settings: Settings, account_id: str, endpoint_id: str
) -> RotatedSecret:
    """A new secret signs from now on; the old one also signs for 24 h (two signatures per
    header), so receivers switch without missing a delivery."""
    endpoint = await get_endpoint(session, account_id, endpoint_id, for_update=True)
    box = secret_box(settings)
    secret = new_secret()
    now = utcnow()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret_encrypted = box.seal(secret)
    endpoint.updated_at = now
    await session.flush()
    return RotatedSecret(secret=secret, previous_secret_expires_at=now + ROTATION_OVERLAP)


async def send_test(session: AsyncSession, account_id: str, endpoint_id: str) -> WebhookDelivery:
    """A `webhook.test` event, delivered to this endpoint only (enabled or not: testing a
    disabled endpoint is how one checks it before enabling it again)."""
    endpoint = await get_endpoint(session, account_id, endpoint_id)
    event = await record_event(
        session,
        account_id,
        "webhook.test",
        {"endpoint_id": endpoint.id, "message": "Hello from Moviie"},
    )
    return await create_delivery(session, endpoint, event)


async def get_delivery(session: AsyncSession, account_id: str, delivery_id: str) -> WebhookDelivery:
    delivery = await repository.get_delivery(session, account_id, delivery_id)
    if delivery is None:
        raise DeliveryNotFound(f"No webhook delivery {delivery_id}.")
    return delivery


async def retry_delivery(
    session: AsyncSession, account_id: str, delivery_id: str
) -> WebhookDelivery:
    """A new delivery of the same event to the same endpoint, attempts 1..6 afresh."""
    old = await get_delivery(session, account_id, delivery_id)
    endpoint = await get_endpoint(session, account_id, old.endpoint_id)
    event = await repository.get_event(session, account_id, old.event_id)
    assert event is not None  # deliveries go with their event
    return await create_delivery(session, endpoint, event)


@dataclass(frozen=True)
class Replayed:
    deliveries: list[WebhookDelivery]


async def replay_failed(
    session: AsyncSession,
    account_id: str,
    endpoint_id: str,
    since: datetime,
    until: datetime | None,
) -> Replayed:
    """A new delivery for every event of [since, until) whose last delivery to the endpoint
    failed: exactly those, once each."""
    endpoint = await get_endpoint(session, account_id, endpoint_id, for_update=True)
    event_ids = await repository.failed_event_ids(session, endpoint.id, since, until or utcnow())
    created = []
    for event_id in event_ids:
        event = await repository.get_event(session, account_id, event_id)
        assert event is not None
        created.append(await create_delivery(session, endpoint, event))
    return Replayed(created)


async def delivery_views(
    session: AsyncSession, deliveries: Sequence[WebhookDelivery]
) -> list[DeliveryOut]:
    attempts = await repository.attempts_of(session, [d.id for d in deliveries])
    return [
        DeliveryOut(
            id=d.id,
            endpoint_id=d.endpoint_id,
            event_id=d.event_id,
            event_type=d.event_type,
            status=d.status,
            attempts=[
                AttemptOut(
                    number=a.number,
                    started_at=a.started_at,
                    duration_ms=a.duration_ms,
                    status_code=a.status_code,
                    error=a.error,
                    response_excerpt=a.response_excerpt,
                )
                for a in attempts[d.id]
            ],
            next_attempt_at=d.next_attempt_at if d.status in ("pending", "retrying") else None,
            created_at=d.created_at,
            finished_at=d.finished_at,
        )
        for d in deliveries
    ]


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
    return await repository.list_deliveries(
        session,
        account_id,
        endpoint_id=endpoint_id,
        event_id=event_id,
        status=status,
        limit=limit,
        after_id=after_id,
    )


async def list_events(
    session: AsyncSession,
    account_id: str,
    *,
    event_type: str | None,
    limit: int,
    after_id: str | None,
) -> tuple[Sequence[Event], bool]:
    return await repository.list_events(
        session, account_id, event_type=event_type, limit=limit, after_id=after_id
    )


async def get_event(session: AsyncSession, account_id: str, event_id: str) -> Event:
    event = await repository.get_event(session, account_id, event_id)
    if event is None:
        raise EventNotFound(f"No event {event_id}.")
    return event


def event_view(event: Event) -> EventOut:
    return EventOut(id=event.id, event=event.type, created_at=event.created_at, data=event.data)
