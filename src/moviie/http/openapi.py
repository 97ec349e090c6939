"""The published OpenAPI 3.1: generated from the code, plus problem+json errors and examples."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from moviie.http.problems import PROBLEM_JSON

_ERRORS: dict[str, tuple[str, str]] = {
    "400": ("bad_request", "The request is malformed (bad JSON, cursor or header)."),
    "401": ("unauthenticated", "No API key, or an unknown or revoked one."),
    "403": ("insufficient_scope", "The key may not do this."),
    "404": ("not_found", "No such object in this account."),
    "409": ("conflict", "The request conflicts with the object's state or an Idempotency-Key."),
    "413": ("payload_too_large", "The body is over the limit."),
    "415": ("unsupported_media_type", "The body's content type is not accepted here."),
    "422": ("validation_failed", "The body or parameters do not validate."),
    "429": ("rate_limited", "Too many requests; see Retry-After."),
    "500": ("internal_error", "Our fault; quote the request_id."),
}
_BODY_ONLY = {"409", "413", "415"}

# Models that routes reference by hand (bodies parsed by the route, e.g. multipart-or-JSON).
_DOCUMENTED_MODELS: list[type[BaseModel]] = []


def document_model(model: type[BaseModel]) -> None:
    """Put `model` in the spec's components, for an `openapi_extra` that `$ref`s it."""
    _DOCUMENTED_MODELS.append(model)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details, with a stable `code`.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "examples": ["/errors/video_not_found"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}


def _schema_example(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    ref = schema.get("$ref")
    if ref:
        target = spec["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
        if target.get("examples"):
            return target["examples"][0]
        props = target.get("properties", {})
        if set(props) == {"data", "has_more", "next_cursor"}:
            item = _schema_example(spec, props["data"].get("items", {}))
            if item is not None:
                return {"data": [item], "has_more": False, "next_cursor": None}
    if schema.get("type") == "array":
        item = _schema_example(spec, schema.get("items", {}))
        if item is not None:
            return [item]
    return None


def _problem_example(status: str) -> dict[str, Any]:
    code, detail = _ERRORS[status]
    return {
        "type": f"/errors/{code}",
        "title": detail,
        "status": int(status),
        "detail": detail,
        "code": code,
        "request_id": "req_01jeq3v5m3f6a9b1c2d3e4f5g6",
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        openapi_version="3.1.0",
    )
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    if _DOCUMENTED_MODELS:
        _, extra = models_json_schema(
            [(m, "validation") for m in _DOCUMENTED_MODELS],
            ref_template="#/components/schemas/{model}",
        )
        for name, schema in extra.get("$defs", {}).items():
            schemas.setdefault(name, schema)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path_item in spec.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                content = response.get("content", {}).get("application/json")
                if status.startswith("2") and content and "example" not in content:
                    example = _schema_example(spec, content.get("schema", {}))
                    if example is not None:
                        content["example"] = example
            for status, response in responses.items():  # errors a route declared itself
                if status[0] in "45" and status not in _ERRORS:
                    response["content"] = {
                        PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }
            has_body = method in ("post", "put", "patch")
            for status, (_code, description) in _ERRORS.items():
                if status in _BODY_ONLY and not has_body:
                    continue
                if status in ("401", "403") and not operation.get("security"):
                    continue
                responses[status] = {
                    "description": description,
                    "content": {
                        PROBLEM_JSON: {
                            "schema": {"$ref": "#/components/schemas/Problem"},
                            "example": _problem_example(status),
                        }
                    },
                }
    app.openapi_schema = spec
    return spec
