"""What one attempt of a delivery is (the signed request) and what follows it (the attempt log,
the next attempt `base * n^2` later or at the receiver's longer `Retry-After`, the end, a
disabled endpoint). The dispatcher drives these in batches; the rules live here."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.config import Settings
from moviie.db.models import Event, WebhookDelivery, WebhookEndpoint
from moviie.db.types import utcnow
from moviie.events.service import emit_event
from moviie.ids import new_id
from moviie.log import get_logger
from moviie.webhooks import repository
from moviie.webhooks.repository import ACTIVE
from moviie.webhooks.sender import AttemptResult, base_headers, payload
from moviie.webhooks.service import secret_box, signing_secrets
from moviie.webhooks.signing import signature_headers

MAX_ATTEMPTS = 6
FAILING_LIMIT = timedelta(days=5)
DISABLED = AttemptResult(None, "endpoint_disabled", "", 0)
# The endpoint's secret does not open: MOVIIE_SECRET_KEY changed under it. Recorded and retried
# like any failure (so it shows in the log), never allowed to stall the other deliveries.
UNSIGNABLE = AttemptResult(None, "secret_unreadable", "", 0)
log = get_logger("moviie.webhooks")


def backoff_s(base_s: float, attempt: int, retry_after_s: float | None) -> float:
    """The wait before attempt n+1: base * n^2, or the receiver's Retry-After when longer."""
    return max(base_s * attempt**2, retry_after_s or 0.0)


@dataclass(frozen=True)
class Request:
    """Attempt `number` of a delivery, ready to sign and send; or, with `fault`, why it is
    recorded without being sent (its endpoint was disabled meanwhile, its secret does not
    open). Signed when sent, so `webhook-timestamp` is the time of the POST."""

    delivery_id: str
    endpoint_id: str
    number: int
    url: str = ""
    event_id: str = ""
    event_type: str = ""
    body: bytes = b""
    secrets: tuple[str, ...] = ()
    fault: AttemptResult | None = None

    def headers(self) -> dict[str, str]:
        timestamp = int(time.time())
        return {
            **base_headers(),
            **signature_headers(self.secrets, self.event_id, timestamp, self.body),
            "X-Moviie-Event": self.event_type,
            "X-Moviie-Delivery": self.delivery_id,
            "X-Moviie-Attempt": str(self.number),
            "X-Moviie-Timestamp": str(timestamp),
        }


@dataclass(frozen=True)
class Outcome:
    delivery_id: str
    number: int
    result: AttemptResult
    finished_at: datetime


def build_request(
    settings: Settings, delivery: WebhookDelivery, endpoint: WebhookEndpoint, event: Event
) -> Request:
    claimed = Request(delivery.id, endpoint.id, delivery.attempts + 1)
    if not endpoint.enabled and event.type != "webhook.test":
        return replace(claimed, fault=DISABLED)
    try:
        secrets = signing_secrets(secret_box(settings), endpoint)
    except ValueError:
        log.error("webhook_secret_unreadable", endpoint_id=endpoint.id, delivery_id=delivery.id)
        return replace(claimed, fault=UNSIGNABLE)
    return replace(
        claimed,
        url=endpoint.url,
        event_id=event.id,
        event_type=event.type,
        body=payload(event),
        secrets=tuple(secrets),
    )


async def record_outcomes(
    session: AsyncSession, settings: Settings, outcomes: Sequence[Outcome]
) -> None:
    """Log each attempt and decide what follows it, all in the caller's transaction. An outcome
    already recorded (a lease that lapsed and was taken up again) is skipped."""
    deliveries = await repository.deliveries_by_id(session, [o.delivery_id for o in outcomes])
    endpoints = await repository.locked_endpoints(
        session, sorted({d.endpoint_id for d in deliveries.values()})
    )
    attempts: list[dict[str, object]] = []
    for outcome in outcomes:
        delivery = deliveries.get(outcome.delivery_id)
        if delivery is None or delivery.attempts >= outcome.number:
            continue  # its endpoint was deleted, or this attempt is on record
        attempts.append(_attempt_row(outcome))
        await _follow(session, settings, delivery, endpoints[delivery.endpoint_id], outcome)
    await repository.add_attempts(session, attempts)


def _attempt_row(outcome: Outcome) -> dict[str, object]:
    result = outcome.result
    return {
        "id": new_id("wha"),
        "delivery_id": outcome.delivery_id,
        "number": outcome.number,
        "started_at": outcome.finished_at - timedelta(milliseconds=result.duration_ms),
        "duration_ms": result.duration_ms,
        "status_code": result.status_code,
        "error": result.error,
        "response_excerpt": result.excerpt,
    }


async def _follow(
    session: AsyncSession,
    settings: Settings,
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    outcome: Outcome,
) -> None:
    result, now = outcome.result, outcome.finished_at
    was_active = delivery.status in ACTIVE
    delivery.attempts = outcome.number
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error
    delivery.lease_expires_at = None
    delivery.updated_at = now
    if result.ok:  # it arrived, even if its endpoint was disabled while it was in flight
        delivery.status, delivery.finished_at = "succeeded", now
        endpoint.failing_since = None
        return
    if not was_active:
        return  # ended meanwhile (its endpoint was disabled): nothing follows
    if result.error != DISABLED.error:
        endpoint.failing_since = endpoint.failing_since or now
    if result.status_code == 410:
        await _disable(session, endpoint, "gone")
    elif endpoint.failing_since is not None and now - endpoint.failing_since >= FAILING_LIMIT:
        await _disable(session, endpoint, "failing_for_5_days")
    delivery.last_error = result.error  # not the "endpoint_disabled" that ended the others
    if delivery.status in ACTIVE and endpoint.enabled and outcome.number < MAX_ATTEMPTS:
        wait = backoff_s(settings.webhook_retry_base_s, outcome.number, result.retry_after_s)
        delivery.status = "retrying"
        delivery.next_attempt_at = now + timedelta(seconds=wait)
        return
    delivery.status, delivery.finished_at = "failed", now


async def _disable(session: AsyncSession, endpoint: WebhookEndpoint, reason: str) -> None:
    """Disable the endpoint, end what it still had to receive, and tell the account's other
    endpoints (this one no longer receives anything, so the fan-out leaves it out)."""
    if not endpoint.enabled:
        return
    now = utcnow()
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.updated_at = now
    await session.flush()
    log.warning("webhook_endpoint_disabled", endpoint_id=endpoint.id, reason=reason)
    await repository.fail_active_deliveries(session, endpoint.id, now, "endpoint_disabled")
    await emit_event(
        session,
        endpoint.account_id,
        "webhook.disabled",
        {"endpoint_id": endpoint.id, "url": endpoint.url, "reason": reason},
    )
