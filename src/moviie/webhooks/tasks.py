"""The delivery engine: each attempt is one workflow on the `webhooks` queue (partitioned by
endpoint). A failed attempt schedules the next with a durable delay (the queue holds it; no
worker sleeps on it, so a restart or a SIGKILL loses nothing and a sleeping delivery takes no
slot), `base * n^2` after attempt n, or the receiver's longer `Retry-After`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from dbos import DBOS
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from moviie.db.types import utcnow
from moviie.events.service import emit_event
from moviie.ids import new_id
from moviie.jobs.runtime import runtime
from moviie.log import get_logger
from moviie.webhooks.dispatch import DELIVER_WORKFLOW, schedule_attempt
from moviie.webhooks.sender import AttemptResult, base_headers, payload, post
from moviie.webhooks.service import secret_box, signing_secrets
from moviie.webhooks.signing import signature_headers

MAX_ATTEMPTS = 6
FAILING_LIMIT = timedelta(days=5)
log = get_logger("moviie.webhooks")


def backoff_s(base_s: float, attempt: int, retry_after_s: float | None) -> float:
    """The wait before attempt n+1: base * n^2, or the receiver's Retry-After when longer."""
    return max(base_s * attempt**2, retry_after_s or 0.0)


@dataclass(frozen=True)
class Target:
    url: str
    body: bytes
    headers: dict[str, str]


async def _target(delivery_id: str, number: int) -> Target | str:
    """What to POST, or why nothing is to be posted (the delivery went, or got this far)."""
    rt = runtime()
    async with rt.db.transaction(write=False) as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return "gone"  # its endpoint was deleted
        if delivery.status in ("succeeded", "failed") or delivery.attempts >= number:
            return "done"  # a rerun of a recorded attempt
        endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
        event = await session.get(Event, delivery.event_id)
        assert endpoint is not None
        assert event is not None
        if not endpoint.enabled and event.type != "webhook.test":
            return "disabled"
        body = payload(event)
        signing = signing_secrets(secret_box(rt.settings), endpoint)
        url = endpoint.url
    timestamp = int(time.time())
    headers = {
        **base_headers(),
        **signature_headers(signing, event.id, timestamp, body),
        "X-Moviie-Event": event.type,
        "X-Moviie-Delivery": delivery_id,
        "X-Moviie-Attempt": str(number),
        "X-Moviie-Timestamp": str(timestamp),
    }
    return Target(url, body, headers)


@DBOS.step()
async def attempt_delivery(delivery_id: str, number: int) -> str:
    """POST attempt `number`, then record it with what follows (the next attempt, the end, a
    disabled endpoint) in one transaction. A crash between the two repeats the POST: delivery is
    at least once, and receivers dedupe on `webhook-id`."""
    rt = runtime()
    target = await _target(delivery_id, number)
    if target == "disabled":
        result = AttemptResult(None, "endpoint_disabled", "", 0)
    elif isinstance(target, str):
        return target
    else:
        assert rt.webhook_client is not None
        result = await post(rt.webhook_client, target.url, target.body, target.headers)
    async with rt.db.transaction() as session:
        return await _record(session, delivery_id, number, result)


async def _record(
    session: AsyncSession, delivery_id: str, number: int, result: AttemptResult
) -> str:
    rt = runtime()
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        return "gone"
    if delivery.attempts >= number:
        return "done"
    endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id, with_for_update=True)
    assert endpoint is not None
    now = utcnow()
    session.add(
        WebhookAttempt(
            id=new_id("wha"),
            delivery_id=delivery.id,
            number=number,
            started_at=now - timedelta(milliseconds=result.duration_ms),
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            error=result.error,
            response_excerpt=result.excerpt,
        )
    )
    delivery.attempts = number
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error
    delivery.updated_at = now
    if result.ok:
        delivery.status, delivery.finished_at = "succeeded", now
        endpoint.failing_since = None
        return "succeeded"
    if result.error != "endpoint_disabled":
        endpoint.failing_since = endpoint.failing_since or now
    if result.status_code == 410:
        await _disable(session, endpoint, "gone")
    elif endpoint.failing_since is not None and now - endpoint.failing_since >= FAILING_LIMIT:
        await _disable(session, endpoint, "failing_for_5_days")
    if endpoint.enabled and number < MAX_ATTEMPTS:
        delivery.status = "retrying"
        wait = backoff_s(rt.settings.webhook_retry_base_s, number, result.retry_after_s)
        await schedule_attempt(session, delivery, number + 1, delay_s=wait)
        return "retrying"
    delivery.status, delivery.finished_at = "failed", now
    return "failed"


async def _disable(session: AsyncSession, endpoint: WebhookEndpoint, reason: str) -> None:
    """Disable the endpoint and tell the account's other endpoints (this one no longer
    receives anything, so the fan-out leaves it out)."""
    if not endpoint.enabled:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.updated_at = utcnow()
    await session.flush()
    log.warning("webhook_endpoint_disabled", endpoint_id=endpoint.id, reason=reason)
    await emit_event(
        session,
        endpoint.account_id,
        "webhook.disabled",
        {"endpoint_id": endpoint.id, "url": endpoint.url, "reason": reason},
    )
    pending = await session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status.in_(("pending", "retrying")),
        )
    )
    for other in pending.all():  # their queued attempts will find them finished
        other.status, other.finished_at, other.last_error = "failed", utcnow(), "endpoint_disabled"


@DBOS.workflow()
async def deliver_webhook(delivery_id: str, number: int) -> str:
    return await attempt_delivery(delivery_id, number)


assert deliver_webhook.__qualname__ == DELIVER_WORKFLOW  # dispatch enqueues it by this name
