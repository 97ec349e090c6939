"""`Idempotency-Key` on POST: the first response is kept 24 h and replayed to the same request.

A record is claimed by a unique insert before the route runs, so two concurrent requests with one
key cannot both execute; the loser gets 409. Responses the client should retry (5xx, 401, 429) are
not kept.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from moviie.db.engine import Database
from moviie.db.models import IdempotencyRecord
from moviie.db.types import utcnow
from moviie.errors import (
    IdempotencyKeyReused,
    IdempotentRequestInProgress,
    InvalidIdempotencyKey,
    PayloadTooLarge,
)
from moviie.http.routing import is_json_content_type

_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# A claim whose request died with its process is taken over after this long: longer than an
# upload of the largest file over a slow link may take.
STALE_CLAIM = timedelta(hours=2)
_NOT_REPLAYED = {b"x-request-id", b"date", b"server", b"content-length"}


def _is_kept(status: int) -> bool:
    return status < 500 and status not in (401, 413, 429)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, ttl_s: int, max_body_bytes: int) -> None:
        self.app = app
        self.ttl = timedelta(seconds=ttl_s)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(b"idempotency-key")
        auth = headers.get(b"authorization")
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not _VALID_KEY.match(key):
            raise InvalidIdempotencyKey(
                "Use 1 to 255 printable ASCII characters, e.g. a UUID.", param="Idempotency-Key"
            )
        if auth is None:  # the route answers 401; there is no caller to scope the key to
            await self.app(scope, receive, send)
            return

        content_type = headers.get(b"content-type", b"")
        streamed = not is_json_content_type(content_type.decode("latin-1"))
        if streamed:
            # An upload is not held in memory to be hashed: it is the same request when it has
            # the same path, media type and length.
            body = b""
            identity = [content_type.split(b";")[0], headers.get(b"content-length", b"")]
        else:
            read = await _read_body(receive, self.max_body_bytes)
            if read is None:  # the client left, or the body cap answered already
                return
            body = read
            identity = [content_type, body]
        db: Database = scope["app"].state.db
        caller_scope = hashlib.sha256(auth).hexdigest()
        fingerprint = hashlib.sha256(
            b"\n".join([scope["path"].encode(), scope.get("query_string", b""), *identity])
        ).hexdigest()
        record_id, replay = await self._claim(db, caller_scope, key, fingerprint)
        if replay is not None:
            await _send_replay(replay, send)
            return

        status = 500
        response_headers: list[list[str]] = []
        chunks: list[bytes] = []

        async def replay_body() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers.extend(
                    [k.decode("latin-1"), v.decode("latin-1")]
                    for k, v in message.get("headers", [])
                    if k.lower() not in _NOT_REPLAYED
                )
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive if streamed else replay_body, capture)
        except BaseException:
            await self._release(db, record_id)
            raise
        if _is_kept(status):
            await self._complete(db, record_id, status, response_headers, b"".join(chunks))
        else:
            await self._release(db, record_id)

    async def _claim(
        self, db: Database, caller_scope: str, key: str, fingerprint: str
    ) -> tuple[int, IdempotencyRecord | None]:
        """Insert our claim, or return the record that holds the key (to replay it)."""
        now = utcnow()
        for _ in range(3):
            try:
                async with db.transaction() as session:
                    record = IdempotencyRecord(
                        scope=caller_scope,
                        key=key,
                        fingerprint=fingerprint,
                        created_at=now,
                        expires_at=now + self.ttl,
                    )
                    session.add(record)
                    await session.flush()
                    return record.id, None
            except IntegrityError:
                pass
            async with db.transaction() as session:
                held = (
                    await session.scalars(
                        select(IdempotencyRecord).where(
                            IdempotencyRecord.scope == caller_scope, IdempotencyRecord.key == key
                        )
                    )
                ).one_or_none()
                if held is None:
                    continue
                if held.expires_at <= now:
                    await session.delete(held)
                    continue
                if held.fingerprint != fingerprint:
                    raise IdempotencyKeyReused(
                        "This key was first used with another request; use a new key.",
                        param="Idempotency-Key",
                    )
                if held.response_status is not None:
                    return held.id, held
                if now - held.created_at < STALE_CLAIM:
                    raise IdempotentRequestInProgress(
                        "Retry once the first request has finished.", param="Idempotency-Key"
                    )
                taken = await session.execute(
                    update(IdempotencyRecord)
                    .where(
                        IdempotencyRecord.id == held.id,
                        IdempotencyRecord.created_at == held.created_at,
                    )
                    .values(created_at=now)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    return held.id, None
        raise IdempotentRequestInProgress("Retry once the first request has finished.")

    async def _complete(
        self, db: Database, record_id: int, status: int, headers: list[list[str]], body: bytes
    ) -> None:
        async with db.transaction() as session:
            await session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.id == record_id)
                .values(response_status=status, response_headers=headers, response_body=body)
            )

    async def _release(self, db: Database, record_id: int) -> None:
        async with db.transaction() as session:
            await session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id)
            )


async def _read_body(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole body, never more than `max_bytes` of it (this runs before authentication)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        parts.append(message.get("body", b""))
        size += len(parts[-1])
        if size > max_bytes:
            raise PayloadTooLarge(
                f"The body may be at most {max_bytes} bytes.", max_bytes=max_bytes
            )
        if not message.get("more_body", False):
            return b"".join(parts)


async def _send_replay(record: IdempotencyRecord, send: Send) -> None:
    body = record.response_body or b""
    headers: list[Any] = [
        (k.encode("latin-1"), v.encode("latin-1")) for k, v in record.response_headers or []
    ]
    headers += [(b"idempotent-replayed", b"true"), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": record.response_status, "headers": headers}
    )
    await send({"type": "http.response.body", "body": body})
