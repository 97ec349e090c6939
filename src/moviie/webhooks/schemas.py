from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from moviie.schemas import RequestModel
from moviie.webhooks.catalog import EVENT_NAMES

DeliveryStatus = Literal["pending", "retrying", "succeeded", "failed"]


def _check_events(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    if value == ["*"]:
        return value
    unknown = sorted(set(value) - EVENT_NAMES)
    if unknown:
        raise ValueError(
            f"unknown event types: {', '.join(unknown)} (see /v1/webhooks/event-types)"
        )
    if not value:
        raise ValueError('subscribe to at least one event type, or ["*"] for all')
    return sorted(set(value))


class EndpointCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"url": "https://api.example.com/moviie", "events": ["video.ready"]}]
        }
    )

    url: AnyHttpUrl = Field(description="A public http(s) URL; redirects are not followed.")
    events: list[str] = Field(
        default_factory=lambda: ["*"], max_length=100, description='Event types, or ["*"].'
    )
    description: str = Field(default="", max_length=500)

    _events = field_validator("events")(_check_events)


class EndpointUpdate(RequestModel):
    url: AnyHttpUrl | None = None
    events: list[str] | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(default=None, description="Re-enabling clears the reason.")

    _events = field_validator("events")(_check_events)


_ENDPOINT: dict[str, Any] = {
    "id": "whe_01jeq3v5m3f6a9b1c2d3e4f5g8",
    "url": "https://api.example.com/moviie",
    "description": "production",
    "events": ["video.failed", "video.ready"],
    "enabled": True,
    "disabled_reason": None,
    "failing_since": None,
    "created_at": "2026-12-04T10:00:00Z",
    "updated_at": "2026-12-04T10:00:00Z",
}
_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 (a documentation example)
_DELIVERY: dict[str, Any] = {
    "id": "dlv_01jeq3v5m3f6a9b1c2d3e4f5g9",
    "endpoint_id": _ENDPOINT["id"],
    "event_id": "evt_01jeq3v5m3f6a9b1c2d3e4f5ga",
    "event_type": "video.ready",
    "status": "succeeded",
    "attempts": [
        {
            "number": 1,
            "started_at": "2026-12-04T10:00:01Z",
            "duration_ms": 840,
            "status_code": 503,
            "error": "http_error",
            "response_excerpt": "upstream unavailable",
        },
        {
            "number": 2,
            "started_at": "2026-12-04T10:01:02Z",
            "duration_ms": 95,
            "status_code": 200,
            "error": None,
            "response_excerpt": "ok",
        },
    ],
    "next_attempt_at": None,
    "created_at": "2026-12-04T10:00:01Z",
    "finished_at": "2026-12-04T10:01:02Z",
}


class EndpointOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ENDPOINT]})

    id: str
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None = Field(
        description="`gone` (it answered 410), `failing_for_5_days`, or `manual`."
    )
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{**_ENDPOINT, "secret": _SECRET}]})

    secret: str = Field(description="`whsec_...`: shown now only. Verify deliveries with it.")


class RotatedSecret(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"secret": _SECRET, "previous_secret_expires_at": "2026-12-05T10:00:00Z"}]
        }
    )

    secret: str
    previous_secret_expires_at: datetime = Field(
        description="Until then the old secret signs too (two signatures per header)."
    )


class AttemptOut(BaseModel):
    number: int
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None = Field(
        description="`timeout`, `connect_error`, `target_not_allowed`, `redirect`, `http_error`, "
        "`network_error`, `endpoint_disabled`, `secret_unreadable` (the server's secret key "
        "changed: rotate the endpoint's secret), or null on a 2xx."
    )
    response_excerpt: str = Field(description="The first 1 KB of the receiver's answer.")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_DELIVERY]})

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: list[AttemptOut]
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None


class ReplayIn(RequestModel):
    since: datetime = Field(description="Events created at or after this time (UTC if no zone)...")
    until: datetime | None = Field(default=None, description="...and before this one (now).")

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class ReplayOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"replayed": 1, "deliveries": [_DELIVERY["id"]]}]}
    )

    replayed: int = Field(description="How many failed events got a new delivery.")
    deliveries: list[str]


class EventTypeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "video.ready",
                    "description": "The video plays.",
                    "example": {"id": "vid_01jeq3v5m3f6a9b1c2d3e4f5g6", "status": "ready"},
                }
            ]
        }
    )

    name: str
    description: str
    example: dict[str, Any]


class EventOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "evt_01jeq3v5m3f6a9b1c2d3e4f5ga",
                    "event": "video.ready",
                    "created_at": "2026-12-04T10:00:00Z",
                    "data": {"id": "vid_01jeq3v5m3f6a9b1c2d3e4f5g6", "status": "ready"},
                }
            ]
        }
    )

    id: str
    event: str
    created_at: datetime
    data: dict[str, Any]
