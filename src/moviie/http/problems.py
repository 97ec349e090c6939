"""RFC 9457 problem details: the one place errors become HTTP responses."""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from moviie.errors import (
    BadRequest,
    InvalidJson,
    MethodNotAllowed,
    MoviieError,
    NotFound,
    ValidationFailed,
)

PROBLEM_JSON = "application/problem+json"
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def problem_body(error: MoviieError) -> dict[str, Any]:
    return {
        "type": f"/errors/{error.code}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
        "request_id": current_request_id.get(),
        **error.members,
    }


def problem_response(error: MoviieError) -> Response:
    body = json.dumps(problem_body(error), separators=(",", ":"), default=str)
    return Response(body, status_code=error.status, media_type=PROBLEM_JSON, headers=error.headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


async def _on_moviie_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MoviieError)
    return problem_response(exc)


async def _on_validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    if any(err["type"] == "json_invalid" for err in errors):
        return problem_response(InvalidJson("The request body could not be parsed as JSON."))
    fields = ", ".join(".".join(str(p) for p in err["loc"][1:]) or "body" for err in errors[:5])
    return problem_response(ValidationFailed(f"Invalid fields: {fields}.", errors=errors))


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: MoviieError
    if exc.status_code == 404:
        error = NotFound(f"There is no route {request.method} {request.url.path}.")
    elif exc.status_code == 405:
        error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}.")
    else:
        error = BadRequest(str(exc.detail))
        error.status = exc.status_code
    if exc.headers:
        error.headers.update(exc.headers)
    return problem_response(error)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MoviieError, _on_moviie_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
