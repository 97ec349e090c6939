"""Settings → Webhooks: endpoints with their event catalog as checkboxes, the signing secret
revealed and rotated, a test event, the delivery log (every attempt, the answer's excerpt, a
Retry button) and the replay of a time range, all through the webhooks service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from moviie.dashboard.web import Browser, Changer, page, redirect, refusal
from moviie.dependencies import AppSettings
from moviie.errors import MoviieError
from moviie.http.session import Session
from moviie.webhooks import service
from moviie.webhooks.catalog import EVENT_TYPES
from moviie.webhooks.schemas import EndpointCreate, EndpointUpdate

router = APIRouter(prefix="/dashboard/settings/webhooks", include_in_schema=False)
LOG_SIZE = 25


def _events(events: list[str] | None) -> list[str]:
    return ["*"] if not events or "*" in events else events


def _utc(when: datetime) -> datetime:
    """The form's time: UTC when it names no zone (the form says so)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@router.get("", response_class=HTMLResponse)
async def endpoints(request: Request, session: Session, who: Browser) -> HTMLResponse:
    return await _list(request, session, who)


async def _list(
    request: Request, session: Session, who: Any, *, error: str | None = None,
    created: Any = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    rows, _ = await service.list_endpoints(session, who.account.id, limit=100, after_id=None)
    return page(request, "webhooks.html", status=status, who=who, section="webhooks",
                endpoints=[service.endpoint_view(e) for e in rows], catalog=EVENT_TYPES,
                error=error, created=created)  # fmt: skip


@router.post("", response_class=HTMLResponse)
async def create(
    request: Request,
    session: Session,
    who: Changer,
    settings: AppSettings,
    url: Annotated[str, Form(max_length=2000)],
    description: Annotated[str, Form(max_length=500)] = "",
    events: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    try:
        body = EndpointCreate(url=url, description=description, events=_events(events))
        created = await service.create_endpoint(session, settings, who.account.id, body)
    except (ValidationError, MoviieError) as refused:
        await session.rollback()  # nothing of a refused form is kept
        return await _list(request, session, who, error=refusal(refused), status=422)
    return await _list(request, session, who, created=created)


async def _detail(
    request: Request, session: Session, who: Any, endpoint_id: str, *, status: int = 200,
    **extra: Any,
) -> HTMLResponse:  # fmt: skip
    endpoint = await service.get_endpoint(session, who.account.id, endpoint_id)
    rows, _ = await service.list_deliveries(
        session, who.account.id, endpoint_id=endpoint.id, limit=LOG_SIZE, after_id=None
    )
    context = {"secret": None, "notice": None, "error": None} | extra
    return page(request, "webhook.html", status=status, who=who,
                section="webhooks", endpoint=service.endpoint_view(endpoint), catalog=EVENT_TYPES,
                deliveries=await service.delivery_views(session, rows), **context)  # fmt: skip


@router.get("/{endpoint_id}", response_class=HTMLResponse)
async def detail(
    request: Request, endpoint_id: str, session: Session, who: Browser, notice: str | None = None
) -> HTMLResponse:
    return await _detail(request, session, who, endpoint_id, notice=notice)


@router.get("/{endpoint_id}/log", response_class=HTMLResponse)
async def log(request: Request, endpoint_id: str, session: Session, who: Browser) -> HTMLResponse:
    """The delivery log alone, refreshed by htmx."""
    endpoint = await service.get_endpoint(session, who.account.id, endpoint_id)
    rows, _ = await service.list_deliveries(
        session, who.account.id, endpoint_id=endpoint.id, limit=LOG_SIZE, after_id=None
    )
    return page(request, "webhook_log.html", who=who, endpoint=service.endpoint_view(endpoint),
                deliveries=await service.delivery_views(session, rows))  # fmt: skip


@router.post("/{endpoint_id}", response_class=HTMLResponse)
async def update(
    request: Request,
    endpoint_id: str,
    session: Session,
    who: Changer,
    settings: AppSettings,
    url: Annotated[str, Form(max_length=2000)],
    description: Annotated[str, Form(max_length=500)] = "",
    events: Annotated[list[str] | None, Form()] = None,
    enabled: Annotated[str | None, Form()] = None,
) -> Response:
    try:
        body = EndpointUpdate(url=url, description=description, events=_events(events),
                              enabled=enabled is not None)  # fmt: skip
        await service.update_endpoint(session, settings, who.account.id, endpoint_id, body)
    except (ValidationError, MoviieError) as refused:
        await session.rollback()  # nothing of a refused form is kept
        return await _detail(request, session, who, endpoint_id, error=refusal(refused), status=422)
    return redirect(f"/dashboard/settings/webhooks/{endpoint_id}?notice=saved")


@router.post("/{endpoint_id}/reveal", response_class=HTMLResponse)
async def reveal(
    request: Request, endpoint_id: str, session: Session, who: Changer, settings: AppSettings
) -> HTMLResponse:
    """The signing secret (a POST: never in a URL, a log or a prefetch)."""
    endpoint = await service.get_endpoint(session, who.account.id, endpoint_id)
    secret = service.signing_secrets(service.secret_box(settings), endpoint)[0]
    return await _detail(request, session, who, endpoint_id, secret=secret)


@router.post("/{endpoint_id}/rotate", response_class=HTMLResponse)
async def rotate(
    request: Request, endpoint_id: str, session: Session, who: Changer, settings: AppSettings
) -> HTMLResponse:
    rotated = await service.rotate_secret(session, settings, who.account.id, endpoint_id)
    return await _detail(request, session, who, endpoint_id, secret=rotated.secret,
                         notice="rotated")  # fmt: skip


@router.post("/{endpoint_id}/test")
async def test(endpoint_id: str, session: Session, who: Changer) -> Response:
    await service.send_test(session, who.account.id, endpoint_id)
    return redirect(f"/dashboard/settings/webhooks/{endpoint_id}?notice=test")


@router.post("/{endpoint_id}/retry/{delivery_id}")
async def retry(endpoint_id: str, delivery_id: str, session: Session, who: Changer) -> Response:
    await service.retry_delivery(session, who.account.id, delivery_id)
    return redirect(f"/dashboard/settings/webhooks/{endpoint_id}?notice=retried")


@router.post("/{endpoint_id}/replay", response_class=HTMLResponse)
async def replay(
    request: Request,
    endpoint_id: str,
    session: Session,
    who: Changer,
    since: Annotated[str, Form(max_length=40)],
    until: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        start = _utc(datetime.fromisoformat(since))
        end = _utc(datetime.fromisoformat(until)) if until else None
    except ValueError:
        return await _detail(
            request,
            session,
            who,
            endpoint_id,
            error="Give the range as dates and times.",
            status=422,
        )
    replayed = await service.replay_failed(session, who.account.id, endpoint_id, start, end)
    return redirect(
        f"/dashboard/settings/webhooks/{endpoint_id}?notice=replayed-{len(replayed.deliveries)}"
    )


@router.post("/{endpoint_id}/delete")
async def delete(endpoint_id: str, session: Session, who: Changer) -> Response:
    await service.delete_endpoint(session, who.account.id, endpoint_id)
    return redirect("/dashboard/settings/webhooks")
