from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from moviie.schemas import RequestModel

_EXAMPLE: dict[str, Any] = {
    "id": "col_01jeq3v5m3f6a9b1c2d3e4f5g6",
    "name": "Spring course",
    "description": "All lessons of the spring term",
    "created_at": "2026-12-04T10:00:00Z",
    "updated_at": "2026-12-04T10:00:00Z",
}


class CollectionCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Spring course", "description": "Lessons"}]}
    )

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)


class CollectionUpdate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Spring course 2027"}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)


class CollectionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: str
    name: str
    description: str
    created_at: datetime
    updated_at: datetime
