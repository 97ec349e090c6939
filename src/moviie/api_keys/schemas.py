from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from moviie.api_keys.scopes import PrivateScope
from moviie.schemas import RequestModel

_KEY_EXAMPLE: dict[str, Any] = {
    "id": "key_01jeq3v5m3f6a9b1c2d3e4f5g6",
    "name": "production backend",
    "type": "private",
    "scopes": None,
    "prefix": "mvi_live_AbCd",
    "last4": "x9Zq",
    "created_at": "2026-12-04T10:00:00Z",
    "last_used_at": "2026-12-04T10:05:00Z",
}


class ApiKeyCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "production backend", "scopes": ["videos:read"]}]}
    )

    name: str = Field(min_length=1, max_length=200)
    type: Literal["private", "publishable"] = "private"
    scopes: list[PrivateScope] | None = Field(
        default=None, max_length=10, description="Omit for a private key with every scope."
    )


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_KEY_EXAMPLE]})

    id: str
    name: str
    type: Literal["private", "publishable"]
    scopes: list[str] | None
    prefix: str = Field(description="The key's first characters, to recognise it.")
    last4: str
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_KEY_EXAMPLE, "key": "mvi_live_AbCd" + "x" * 36 + "x9Zq"}]
        }
    )

    key: str = Field(description="The key itself. Shown only in this response.")
