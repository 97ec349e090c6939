"""The project's router: JSON bodies must say they are JSON (else 415, not a confusing 422)."""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, params
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from moviie.errors import UnsupportedMediaType


def is_json_content_type(value: str | None) -> bool:
    if not value:
        return False
    message = email.message.Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class MoviieRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        body_field = self.body_field
        expects_json = body_field is not None and not isinstance(body_field.field_info, params.Form)
        if not expects_json:
            return handler

        async def json_route(request: Request) -> Response:
            has_body = request.headers.get("content-length", "0") != "0" or (
                "transfer-encoding" in request.headers
            )
            if has_body and not is_json_content_type(request.headers.get("content-type")):
                raise UnsupportedMediaType(
                    "Send the body as JSON with `Content-Type: application/json`."
                )
            return await handler(request)

        return json_route


def moviie_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=MoviieRoute, **kwargs)
