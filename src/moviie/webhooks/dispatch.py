"""From an event to deliveries: one per subscribed, enabled endpoint, each with its first
attempt enqueued in the same transaction as the event (so no event is lost, none delivered
that was rolled back), on the `webhooks` queue partitioned by endpoint."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Event, WebhookDelivery, WebhookEndpoint
from moviie.db.types import utcnow
from moviie.ids import new_id
from moviie.jobs.client import job_client_for
from moviie.webhooks import repository

# The workflow's registered name (webhooks/tasks.py asserts it), so this module, which every
# event passes through, does not import the job engine's workflows.
DELIVER_WORKFLOW = "deliver_webhook"


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
    await schedule_attempt(session, delivery, 1, delay_s=0)
    return delivery


async def schedule_attempt(
    session: AsyncSession, delivery: WebhookDelivery, number: int, *, delay_s: float
) -> None:
    """Attempt `number` of `delivery`, not before `delay_s` from now. The job id makes it once:
    scheduling the same attempt twice (a replayed step) enqueues nothing more."""
    delivery.next_attempt_at = utcnow() + timedelta(seconds=delay_s)
    await job_client_for(session).enqueue_in(
        session,
        "webhooks",
        DELIVER_WORKFLOW,
        delivery.id,
        number,
        job_id=f"{delivery.id}-{number}",
        partition_key=delivery.endpoint_id,
        delay_s=delay_s,
    )
