"""Player events in (`POST /v1/analytics/events`, callable from any web page) and the audience
figures out (private keys with `analytics:read`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from moviie.analytics import service
from moviie.analytics.schemas import EventBatch, IntakeOut, OverviewOut, VideoAnalyticsOut
from moviie.api_keys import service as api_keys
from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.db.types import utcnow
from moviie.dependencies import AppSettings, Uploads
from moviie.errors import RateLimited, Unauthenticated
from moviie.http.body import read_json_model
from moviie.http.openapi import document_model
from moviie.http.ratelimit import Budget, RateLimiter
from moviie.http.routing import moviie_router
from moviie.http.session import Session, get_database

router = moviie_router(tags=["Analytics"])
Analyst = Annotated[ApiCaller, Depends(require_scope("analytics:read"))]
MAX_BATCH_BYTES = 64 * 1024
# Any page may post events (the embed, a customer's own player): no cookies are read.
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "86400",
}
document_model(EventBatch)
_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/EventBatch"}},
        "text/plain": {"schema": {"$ref": "#/components/schemas/EventBatch"}},
    },
}


EVENTS_PATH = "/v1/analytics/events"


class OpenToAnyOrigin:
    """Every answer of the events route carries the CORS headers (its errors too: a
    customer's player using fetch() then sees a 401 or 429, not a network error)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != EVENTS_PATH:
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in CORS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, sending)


@router.options("/v1/analytics/events", include_in_schema=False)
async def events_preflight() -> Response:
    return Response(status_code=204, headers=CORS)


@router.post(
    "/v1/analytics/events",
    status_code=202,
    summary="Post player events (batched; a publishable key)",
    description="JSON, or the same JSON as `text/plain` (what `navigator.sendBeacon` sends). "
    "The key comes as `Authorization: Bearer` or as `key` in the body; the embed player "
    "sends each event's `beacon` instead. Events failing a check are dropped and counted, "
    "never an error for the batch.",
    # The bearer header, or (for sendBeacon) the key or beacons in the body.
    openapi_extra={"requestBody": _BODY, "security": [{"HTTPBearer": []}, {}]},
)
async def post_events(request: Request, ctx: Uploads, settings: AppSettings) -> IntakeOut:
    db = get_database(request)
    batch = await read_json_model(request, EventBatch, MAX_BATCH_BYTES)
    header = request.headers.get("authorization", "")
    raw_key = header[7:].strip() if header.lower().startswith("bearer ") else batch.key
    account_id = None
    limiter: RateLimiter = request.app.state.limiter
    budget = Budget("analytics", settings.analytics_events_per_minute)
    viewer_budget = Budget("viewer", settings.analytics_viewer_batches_per_minute)
    if not raw_key and not any(e.beacon for e in batch.events):
        raise Unauthenticated("Send a publishable key (`key`, or `Authorization: Bearer`).")
    now = utcnow()
    # One read transaction for the key and the checks; most batches then write.
    async with db.transaction(write=False) as reading:
        if raw_key:
            found = await api_keys.find_key(reading, raw_key)
            if found is None:
                raise Unauthenticated("This API key is unknown or revoked.")
            account_id = found[1].id
            await limiter.hit(budget, found[0].id)
        else:  # the embed's beacons: no key to count against, so the sender's address is
            client = request.client.host if request.client else "unknown"
            await limiter.hit(budget, f"ip:{client}")
        try:
            await limiter.hit(viewer_budget, batch.viewer_id)
            limited = False
        except RateLimited:
            limited = True  # dropped and counted, not refused: a beacon reads no answer
        intake = await service.check_events(
            reading, batch, account_id=account_id, secret=ctx.secret, now=now, limited=limited
        )
    if intake.rows or intake.by_account:
        async with db.transaction() as writing:
            await service.record_intake(writing, intake, now)
    return IntakeOut(accepted=intake.accepted, dropped=dict(intake.dropped))


@router.get(
    "/v1/analytics/videos/{video_id}",
    summary="A video's audience over time",
    response_model_by_alias=True,
)
async def video_analytics(
    video_id: str,
    session: Session,
    caller: Analyst,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query()] = None,
    interval: Annotated[Literal["hour", "day"], Query()] = "day",
) -> VideoAnalyticsOut:
    return await service.video_analytics(
        session, caller.account_id, video_id, start=from_, end=to, interval=interval, now=utcnow()
    )


@router.get("/v1/analytics/overview", summary="The account's audience, top videos and bandwidth")
async def overview(
    session: Session,
    caller: Analyst,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query()] = None,
) -> OverviewOut:
    return await service.overview(session, caller.account_id, start=from_, end=to, now=utcnow())
