from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query

from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.dependencies import AppSettings
from moviie.http.pagination import Page, Pagination, page_of
from moviie.http.routing import moviie_router
from moviie.http.session import Session
from moviie.webhooks import service
from moviie.webhooks.catalog import EVENT_TYPES
from moviie.webhooks.schemas import (
    DeliveryOut,
    EndpointCreate,
    EndpointOut,
    EndpointUpdate,
    EndpointWithSecret,
    EventOut,
    EventTypeOut,
    ReplayIn,
    ReplayOut,
    RotatedSecret,
)

router = moviie_router(tags=["Webhooks"])
# One scope for the webhook setup and its log: whoever manages endpoints reads what they got.
Manager = Annotated[ApiCaller, Depends(require_scope("webhooks:write"))]
EndpointId = Annotated[str, Path(max_length=64, examples=["whe_01jeq3v5m3f6a9b1c2d3e4f5g8"])]
DeliveryId = Annotated[str, Path(max_length=64, examples=["dlv_01jeq3v5m3f6a9b1c2d3e4f5g9"])]
EventId = Annotated[str, Path(max_length=64, examples=["evt_01jeq3v5m3f6a9b1c2d3e4f5ga"])]
StatusFilter = Annotated[
    Literal["pending", "retrying", "succeeded", "failed"] | None,
    Query(description="Only deliveries in this state."),
]


@router.get("/v1/webhooks/event-types", summary="Every event type, with an example")
async def event_types(caller: Manager) -> list[EventTypeOut]:
    return [
        EventTypeOut(name=t.name, description=t.description, example=t.example) for t in EVENT_TYPES
    ]


@router.post("/v1/webhooks", status_code=201, summary="Add a webhook endpoint")
async def create_endpoint(
    body: EndpointCreate, session: Session, caller: Manager, settings: AppSettings
) -> EndpointWithSecret:
    return await service.create_endpoint(session, settings, caller.account_id, body)


@router.get("/v1/webhooks", summary="List webhook endpoints")
async def list_endpoints(session: Session, caller: Manager, page: Pagination) -> Page[EndpointOut]:
    rows, has_more = await service.list_endpoints(
        session, caller.account_id, limit=page.limit, after_id=page.after_id
    )
    return page_of(
        [service.endpoint_view(e) for e in rows], has_more, rows[-1].id if rows else None
    )


@router.get("/v1/webhooks/{endpoint_id}", summary="Get a webhook endpoint")
async def get_endpoint(endpoint_id: EndpointId, session: Session, caller: Manager) -> EndpointOut:
    return service.endpoint_view(
        await service.get_endpoint(session, caller.account_id, endpoint_id)
    )


@router.patch("/v1/webhooks/{endpoint_id}", summary="Change, disable or enable an endpoint")
async def update_endpoint(
    endpoint_id: EndpointId,
    body: EndpointUpdate,
    session: Session,
    caller: Manager,
    settings: AppSettings,
) -> EndpointOut:
    endpoint = await service.update_endpoint(
        session, settings, caller.account_id, endpoint_id, body
    )
    return service.endpoint_view(endpoint)


@router.delete("/v1/webhooks/{endpoint_id}", status_code=204, summary="Delete an endpoint")
async def delete_endpoint(endpoint_id: EndpointId, session: Session, caller: Manager) -> None:
    await service.delete_endpoint(session, caller.account_id, endpoint_id)


@router.post(
    "/v1/webhooks/{endpoint_id}/rotate-secret",
    summary="New signing secret (the old one signs too for 24 h)",
)
async def rotate_secret(
    endpoint_id: EndpointId, session: Session, caller: Manager, settings: AppSettings
) -> RotatedSecret:
    return await service.rotate_secret(session, settings, caller.account_id, endpoint_id)


@router.post(
    "/v1/webhooks/{endpoint_id}/test",
    status_code=202,
    summary="Send a `webhook.test` event to this endpoint",
)
async def send_test(endpoint_id: EndpointId, session: Session, caller: Manager) -> DeliveryOut:
    delivery = await service.send_test(session, caller.account_id, endpoint_id)
    return (await service.delivery_views(session, [delivery]))[0]


@router.get("/v1/webhooks/{endpoint_id}/deliveries", summary="The endpoint's delivery log")
async def endpoint_deliveries(
    endpoint_id: EndpointId,
    session: Session,
    caller: Manager,
    page: Pagination,
    status: StatusFilter = None,
    event_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[DeliveryOut]:
    await service.get_endpoint(session, caller.account_id, endpoint_id)
    rows, has_more = await service.list_deliveries(
        session,
        caller.account_id,
        endpoint_id=endpoint_id,
        event_id=event_id,
        status=status,
        limit=page.limit,
        after_id=page.after_id,
    )
    views = await service.delivery_views(session, rows)
    return page_of(views, has_more, rows[-1].id if rows else None)


@router.post(
    "/v1/webhooks/{endpoint_id}/replay",
    status_code=202,
    summary="Deliver again every event of a time range that failed",
)
async def replay(
    endpoint_id: EndpointId, body: ReplayIn, session: Session, caller: Manager
) -> ReplayOut:
    replayed = await service.replay_failed(
        session, caller.account_id, endpoint_id, body.since, body.until
    )
    return ReplayOut(
        replayed=len(replayed.deliveries), deliveries=[d.id for d in replayed.deliveries]
    )


@router.get("/v1/webhook-deliveries/{delivery_id}", summary="One delivery, with its attempts")
async def get_delivery(delivery_id: DeliveryId, session: Session, caller: Manager) -> DeliveryOut:
    delivery = await service.get_delivery(session, caller.account_id, delivery_id)
    return (await service.delivery_views(session, [delivery]))[0]


@router.post(
    "/v1/webhook-deliveries/{delivery_id}/retry",
    status_code=202,
    summary="Deliver the event again (a new delivery, attempts 1..6)",
)
async def retry_delivery(delivery_id: DeliveryId, session: Session, caller: Manager) -> DeliveryOut:
    delivery = await service.retry_delivery(session, caller.account_id, delivery_id)
    return (await service.delivery_views(session, [delivery]))[0]


@router.get("/v1/events", summary="The account's events, newest first", tags=["Events"])
async def list_events(
    session: Session,
    caller: Manager,
    page: Pagination,
    type: Annotated[str | None, Query(max_length=64, description="e.g. `video.ready`")] = None,
) -> Page[EventOut]:
    rows, has_more = await service.list_events(
        session, caller.account_id, event_type=type, limit=page.limit, after_id=page.after_id
    )
    return page_of([service.event_view(e) for e in rows], has_more, rows[-1].id if rows else None)


@router.get("/v1/events/{event_id}", summary="One event", tags=["Events"])
async def get_event(event_id: EventId, session: Session, caller: Manager) -> EventOut:
    return service.event_view(await service.get_event(session, caller.account_id, event_id))


@router.get("/v1/events/{event_id}/deliveries", summary="Where an event went", tags=["Events"])
async def event_deliveries(
    event_id: EventId, session: Session, caller: Manager, page: Pagination
) -> Page[DeliveryOut]:
    await service.get_event(session, caller.account_id, event_id)
    rows, has_more = await service.list_deliveries(
        session, caller.account_id, event_id=event_id, limit=page.limit, after_id=page.after_id
    )
    views = await service.delivery_views(session, rows)
    return page_of(views, has_more, rows[-1].id if rows else None)
