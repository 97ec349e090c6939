"""One POST of a delivery and how it went, in the terms of the delivery log."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from moviie import __version__
from moviie.db.models import Event

EXCERPT_BYTES = 1024
MAX_RETRY_AFTER_S = 24 * 3600  # a receiver may ask us to wait, up to a day


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    error: str | None
    excerpt: str
    duration_ms: int
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def payload(event: Event) -> bytes:
    """The raw body that is signed: the same bytes on every attempt of every delivery."""
    created = event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    body = {"id": event.id, "event": event.type, "created_at": created, "data": event.data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def base_headers() -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": f"Moviie-Webhooks/{__version__}"}


async def post(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], *, timeout_s: float
) -> AttemptResult:
    """POST, and read at most 1 KB of the answer, within `timeout_s` all told (httpx's own
    timeouts bound each read, not a receiver that trickles its answer)."""
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        async with asyncio.timeout(timeout_s):
            async with client.stream("POST", url, content=body, headers=headers) as response:
                excerpt = await _excerpt(response)
    except (httpx.TimeoutException, TimeoutError):
        return AttemptResult(None, "timeout", "", elapsed())
    except httpx.ConnectError as exc:
        blocked = "non-public" in str(exc)
        return AttemptResult(
            None, "target_not_allowed" if blocked else "connect_error", "", elapsed()
        )
    except httpx.HTTPError:
        return AttemptResult(None, "network_error", "", elapsed())
    code = response.status_code
    if 200 <= code < 300:
        return AttemptResult(code, None, excerpt, elapsed())
    error = "redirect" if 300 <= code < 400 else "http_error"
    return AttemptResult(code, error, excerpt, elapsed(), _retry_after(response.headers))


async def _excerpt(response: httpx.Response) -> str:
    """The first 1 KB of the answer, never more read (a receiver may answer with a lot)."""
    taken = b""
    async for chunk in response.aiter_raw():
        taken += chunk
        if len(taken) >= EXCERPT_BYTES:
            break
    return taken[:EXCERPT_BYTES].decode("utf-8", "replace")


def _retry_after(headers: Any) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
