"""Business errors: one base class, mapped to problem+json in one place (`moviie.http.problems`).

Services raise these; they never import HTTP.
"""

from __future__ import annotations

from typing import Any


class MoviieError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str | None = None, **members: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.members = members
        self.headers: dict[str, str] = {}


class BadRequest(MoviieError):
    pass


class InvalidJson(BadRequest):
    code = "invalid_json"
    title = "The body is not valid JSON"


class InvalidCursor(BadRequest):
    code = "invalid_cursor"
    title = "The cursor is not one this API gave out"


class InvalidIdempotencyKey(BadRequest):
    code = "invalid_idempotency_key"
    title = "The Idempotency-Key header is not valid"


class Unauthenticated(MoviieError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class InsufficientScope(MoviieError):
    status = 403
    code = "insufficient_scope"
    title = "This key may not do that"


class NotFound(MoviieError):
    status = 404
    code = "not_found"
    title = "Not found"


class MethodNotAllowed(MoviieError):
    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"


class Conflict(MoviieError):
    status = 409
    code = "conflict"
    title = "Conflict"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = "This Idempotency-Key was used with another request"


class IdempotentRequestInProgress(Conflict):
    code = "idempotent_request_in_progress"
    title = "A request with this Idempotency-Key is still in progress"


class PayloadTooLarge(MoviieError):
    status = 413
    code = "payload_too_large"
    title = "The body is too large"


class UnsupportedMediaType(MoviieError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported content type"


class ValidationFailed(MoviieError):
    status = 422
    code = "validation_failed"
    title = "The request is not valid"


class InsufficientCredits(MoviieError):
    status = 402
    code = "insufficient_credits"
    title = "Not enough credits"


class RateLimited(MoviieError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"


class InternalError(MoviieError):
    status = 500
    code = "internal_error"
    title = "Internal error"
