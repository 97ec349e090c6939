"""The project's router: JSON bodies must say they are JSON (else 415, not a confusing 422),
and parameters carry no NUL (which PostgreSQL cannot store or compare)."""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, params
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from moviie.errors import BadRequest, UnsupportedMediaType


def is_json_content_type(value: str | None) -> bool:
    if not value:
        return False
    message = email.message.Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _check_parameters(request: Request) -> None:
    for value in [*request.query_params.values(), *request.path_params.values()]:
        if isinstance(value, str) and "\x00" in value:
            raise BadRequest("Parameters may not contain NUL characters.")


class MoviieRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()
        body_field = self.body_field
        expects_json = body_field is not None and not isinstance(body_field.field_info, params.Form)

        async def route(request: Request) -> Response:
            _check_parameters(request)  # PostgreSQL stores no NUL: refuse it as input, not a 500
            if expects_json:
                has_body = request.headers.get("content-length", "0") != "0" or (
                    "transfer-encoding" in request.headers
                )
                if has_body and not is_json_content_type(request.headers.get("content-type")):
                    raise UnsupportedMediaType(
                        "Send the body as JSON with `Content-Type: application/json`."
                    )
            return await inner(request)

        return route


def moviie_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=MoviieRoute, **kwargs)
