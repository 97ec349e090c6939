"""Pure ASGI middleware: request ids, access log, last-resort errors, and the body size cap."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from moviie.errors import InternalError, MoviieError, PayloadTooLarge
from moviie.http.problems import current_request_id, problem_response
from moviie.http.ratelimit import current_verdict
from moviie.ids import new_id
from moviie.log import get_logger

log = get_logger("moviie.http")
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestContextMiddleware:
    """Outermost layer: every response carries `X-Request-Id`, nothing escapes as a trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _SANE_REQUEST_ID.match(incoming) else new_id("req")
        token = current_request_id.set(request_id)
        verdict_token = current_verdict.set(None)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message.setdefault("headers", [])
                extra = [(b"x-request-id", request_id.encode())]
                verdict = current_verdict.get()
                if verdict is not None:
                    extra += [(k.encode(), v.encode()) for k, v in verdict.headers().items()]
                message["headers"] = [*message["headers"], *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except MoviieError as exc:  # raised outside the router, e.g. while reading the body
            if not response_started:
                await problem_response(exc)(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled_error", method=scope["method"], path=scope["path"])
            if not response_started:
                error = InternalError("Something went wrong on our side; quote the request_id.")
                await problem_response(error)(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.unbind_contextvars("request_id")
            current_request_id.reset(token)
            current_verdict.reset(verdict_token)


class BodyLimitMiddleware:
    """Refuses bodies over the cap: up front by Content-Length, else while streaming."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        exempt: Callable[[str, str], bool] = lambda _method, _path: False,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The body may be at most {limit} bytes.", max_bytes=limit)
        seen = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer now and tell the app the client left: frameworks turn an exception
                    # raised while reading the body into their own 400.
                    refused = True
                    error = PayloadTooLarge(
                        f"The body may be at most {limit} bytes.", max_bytes=limit
                    )
                    await problem_response(error)(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counting_receive, guarded_send)


def _header(scope: Scope, name: bytes) -> str | None:
    headers: Any = scope.get("headers", [])
    for key, value in headers:
        if key == name:
            return str(value.decode("latin-1"))
    return None
