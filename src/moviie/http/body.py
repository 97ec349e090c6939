"""Reading a JSON body by hand, for routes that accept more than one content type."""

from __future__ import annotations

from typing import TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from moviie.errors import InvalidJson, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)


async def read_json_model(request: Request, model: type[M], max_bytes: int) -> M:
    """The body parsed as `model`: 413 past `max_bytes`, 400 if not JSON, 422 if invalid."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise PayloadTooLarge(
                f"The body may be at most {max_bytes} bytes.", max_bytes=max_bytes
            )
    try:
        return model.model_validate_json(bytes(body))
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise InvalidJson("The request body could not be parsed as JSON.") from exc
        raise body_validation_error(exc) from exc


def body_validation_error(exc: ValidationError) -> RequestValidationError:
    """A model's errors as the 422 of a request body (locations under `body`)."""
    return RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in exc.errors()])
