"""What every provider call shares (chat, speech, lip sync): a timeout, retries on 429, 5xx,
timeouts and dropped connections honouring `Retry-After`, and one error once the retries are
spent, which the job turns into a confirmed failure with a full refund."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import SecretStr

from moviie.log import get_logger

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
FIRST_BACKOFF_S = 1.0
LONGEST_WAIT_S = 60.0  # a Retry-After past this is treated as this
log = get_logger("moviie.providers")


class ProviderFailed(RuntimeError):
    """A provider call failed for good: `code` is the job's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@asynccontextmanager
async def provider_client(
    base_url: str, api_key: SecretStr | None, timeout_s: float
) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"User-Agent": "Moviie"}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key.get_secret_value()}"
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=timeout_s, follow_redirects=True
    ) as client:
        yield client


def retry_after_s(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    code: str,
    what: str,
    attempts: int,
    files: Callable[[contextlib.ExitStack], dict[str, Any]] | None = None,
    **request: Any,
) -> httpx.Response:
    """The provider's 2xx answer, after up to `attempts` tries. Other 4xx answers are final at
    once (retrying a bad request changes nothing). `files` makes the multipart files afresh
    for each try (opened files close with the stack). Raises ProviderFailed(code, ...)."""
    problem = ""
    for attempt in range(1, attempts + 1):
        wait = FIRST_BACKOFF_S * 2 ** (attempt - 1)
        try:
            with contextlib.ExitStack() as stack:
                if files is not None:
                    request["files"] = files(stack)
                response = await client.request(method, url, **request)
        except httpx.TimeoutException:
            problem = "timed out"
        except httpx.TransportError as exc:
            problem = f"could not be reached ({type(exc).__name__})"
        else:
            if response.is_success:
                return response
            problem = f"answered {response.status_code}"
            if response.status_code not in RETRY_STATUSES:
                break
            asked = retry_after_s(response)
            wait = wait if asked is None else asked
        log.warning("provider_call_failed", what=what, attempt=attempt, problem=problem)
        if attempt < attempts:
            await asyncio.sleep(min(wait, LONGEST_WAIT_S))
    raise ProviderFailed(code, f"The {what} {problem} (after {attempt} attempts).")
