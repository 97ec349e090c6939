"""The dashboard at `/dashboard`: server-rendered pages (Jinja2, htmx) over the same services the
API calls, never copies of their rules. Signed in with email and password; every change carries
the session's CSRF token."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError

from moviie.accounts import repository as accounts_repository
from moviie.accounts.passwords import hash_password, needs_rehash, password_matches
from moviie.api_keys import service as api_keys
from moviie.api_keys.scopes import PRIVATE_SCOPES
from moviie.collections import service as collections_service
from moviie.dashboard import account_pages, materials_pages, sessions, webhooks_pages
from moviie.dashboard.web import (
    TEMPLATES,
    Browser,
    Changer,
    install_handlers,
    page,
    redirect,
    refusal,
)
from moviie.db.models import Account, Video
from moviie.db.types import utcnow
from moviie.dependencies import AppSettings, Uploads
from moviie.errors import MoviieError, RateLimited
from moviie.http.ratelimit import Budget, RateLimiter
from moviie.http.session import Session, get_database
from moviie.media.ladder import Rendition, renditions_for
from moviie.uploads import service as uploads
from moviie.videos import service as videos
from moviie.videos.repository import VideoFilters
from moviie.videos.schemas import UploadReserve, VideoFields

router = APIRouter(prefix="/dashboard", include_in_schema=False)
SIGN_IN_ATTEMPTS_PER_MINUTE = 10
_HASHING = asyncio.Semaphore(2)
PAGE_SIZE = 50


def _duration(seconds: float | None) -> str:
    if not seconds:
        return "—"
    whole = round(seconds)
    if whole >= 3600:
        return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    return f"{whole // 60}:{whole % 60:02d}"


def _filesize(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


TEMPLATES.filters["duration"] = _duration
TEMPLATES.filters["filesize"] = _filesize


def _day(text: str | None) -> datetime | None:
    """A date from the filter form (YYYY-MM-DD), as the start of that UTC day; else none."""
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC) if text else None
    except ValueError:
        return None


def _safe_next(target: str | None) -> str:
    """Only a dashboard path of ours: never another site (an open redirect)."""
    if target and target.startswith("/dashboard/") and "//" not in target and "\\" not in target:
        return target
    return "/dashboard/videos"


def _set_cookie(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(
        sessions.COOKIE,
        token,
        max_age=int(sessions.LIFETIME.total_seconds()),
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )


@router.get("")
async def home() -> Response:
    return redirect("/dashboard/videos")


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, next: str | None = None) -> HTMLResponse:
    return page(request, "sign_in.html", who=None, next=_safe_next(next), email="", error=None)


def _same_site(request: Request) -> bool:
    """A sign-in posted by our own page: another site's form could otherwise sign a victim
    into the attacker's account (login CSRF). Browsers send Sec-Fetch-Site or Origin."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


@router.post("/sign-in")
async def sign_in(
    request: Request,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    email = email.strip().lower()
    if not _same_site(request):
        return page(request, "sign_in.html", status=403, who=None, next=_safe_next(next),
                    email=email, error="Sign in from this page.")  # fmt: skip
    limiter: RateLimiter = request.app.state.limiter
    client = request.client.host if request.client else "unknown"
    try:
        budget = Budget("sign-in", SIGN_IN_ATTEMPTS_PER_MINUTE)
        await limiter.hit(budget, f"email:{email}")
        await limiter.hit(budget, f"ip:{client}")
    except RateLimited as limited:
        return page(request, "sign_in.html", status=429, who=None, next=_safe_next(next),
                    email=email, error=f"Too many attempts: {limited.detail}")  # fmt: skip
    db = get_database(request)
    async with db.transaction(write=False) as reading:
        account = await accounts_repository.get_by_email(reading, email)
    stored = account.password_hash if account is not None else None
    # argon2 takes a quarter second of CPU and 64 MiB: off the event loop, a few at a time.
    async with _HASHING:
        matches = await asyncio.to_thread(password_matches, stored, password)
    if account is None or not matches:
        return page(request, "sign_in.html", status=401, who=None, next=_safe_next(next),
                    email=email, error="That email and password do not match.")  # fmt: skip
    async with db.transaction() as writing:
        if stored and needs_rehash(stored):  # stronger parameters since: stored anew
            row = await writing.get(Account, account.id)
            if row is not None:
                row.password_hash = await asyncio.to_thread(hash_password, password)
        token = await sessions.open_session(writing, account, utcnow())
    response = redirect(_safe_next(next))
    _set_cookie(response, token, settings.resolved_public_url.startswith("https://"))
    return response


@router.post("/sign-out")
async def sign_out(session: Session, who: Changer) -> Response:
    await sessions.close_session(session, who.session_id)
    response = redirect("/dashboard/sign-in")
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


# ---- library


@router.get("/videos", response_class=HTMLResponse)
async def library(
    request: Request,
    session: Session,
    who: Browser,
    ctx: Uploads,
    q: Annotated[str | None, Query(max_length=200)] = None,
    reference_id: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    collection_id: Annotated[str | None, Query(max_length=64)] = None,
    created_after: Annotated[str | None, Query(max_length=10)] = None,
    created_before: Annotated[str | None, Query(max_length=10)] = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """The API's filters (`GET /v1/videos`), the dates as days (UTC)."""
    filters = VideoFilters(
        q=q or None, reference_id=reference_id or None, status=status or None, tag=tag or None,
        collection_id=collection_id or None, created_after=_day(created_after),
        created_before=_day(created_before),
    )  # fmt: skip
    collections, _ = await collections_service.list_collections(
        session, who.account.id, limit=100, after_id=None
    )
    rows, more = await videos.list_videos(
        session, who.account.id, filters, limit=PAGE_SIZE, after_id=after
    )
    shown = await videos.views(session, rows, ctx.public_url)
    query = [(k, v) for k, v in (("q", q), ("reference_id", reference_id), ("status", status),
                                  ("tag", tag), ("collection_id", collection_id),
                                  ("created_after", created_after),
                                  ("created_before", created_before)) if v]  # fmt: skip
    return page(request, "videos.html", who=who, section="videos", videos=shown, more=more,
                filters=filters, query=query, collections=collections,
                created_after=created_after or "", created_before=created_before or "")  # fmt: skip


@router.get("/videos/{video_id}/row", response_class=HTMLResponse)
async def library_row(
    request: Request, video_id: str, session: Session, who: Browser, ctx: Uploads
) -> HTMLResponse:
    """One row, polled by htmx while the video is on its way."""
    video = await videos.get_video(session, who.account.id, video_id)
    [view] = await videos.views(session, [video], ctx.public_url)
    return page(request, "video_row.html", video=view)


@router.post("/videos/reserve")
async def reserve(
    session: Session,
    who: Changer,
    ctx: Uploads,
    title: Annotated[str, Form(max_length=500)] = "",
    filename: Annotated[str, Form(max_length=255)] = "",
    size_bytes: Annotated[int | None, Form(ge=1)] = None,
) -> JSONResponse:
    """A reserved upload for the page's tus client: the video and its signed URL."""
    body = UploadReserve(title=title or filename or None, filename=filename or None,
                         size_bytes=size_bytes)  # fmt: skip
    try:
        video, upload = await uploads.reserve_upload(session, ctx, who.account, body)
    except MoviieError as refused:
        await session.rollback()  # nothing of a refused form is kept
        return JSONResponse(
            {"error": refused.detail, "code": refused.code}, status_code=refused.status
        )
    view = uploads.upload_view(ctx, upload)
    return JSONResponse({"video_id": video.id, "upload_url": view.tus_url})


@router.get("/videos/{video_id}", response_class=HTMLResponse)
async def video_page(
    request: Request,
    video_id: str,
    session: Session,
    who: Browser,
    ctx: Uploads,
    saved: bool = False,
) -> HTMLResponse:
    video = await videos.get_video(session, who.account.id, video_id)
    [view] = await videos.views(session, [video], ctx.public_url)
    context = await materials_pages.materials_context(session, who, video.id, ctx.public_url)
    return page(request, "video.html", who=who, section="videos", video=view, saved=saved,
                error=None, public_url=ctx.public_url, renditions=_renditions(video),
                **context)  # fmt: skip


def _renditions(video: Video) -> list[Rendition]:
    """The ladder the pipeline made (the same rule, from the source's size)."""
    if video.status != "ready" or not video.width or not video.height:
        return []
    return renditions_for(video.width, video.height)


def _metadata(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


@router.post("/videos/{video_id}", response_class=HTMLResponse)
async def save_video(
    request: Request,
    video_id: str,
    session: Session,
    who: Changer,
    ctx: Uploads,
    title: Annotated[str, Form(max_length=500)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
    reference_id: Annotated[str, Form(max_length=200)] = "",
    tags: Annotated[str, Form(max_length=5000)] = "",
    metadata: Annotated[str, Form(max_length=50000)] = "",
    privacy: Annotated[str, Form(max_length=20)] = "public",
) -> Response:
    fields: dict[str, Any] = {
        "title": title,
        "description": description,
        "reference_id": reference_id.strip() or None,
        "tags": [t.strip() for t in tags.split(",") if t.strip()],
        "metadata": _metadata(metadata),
        "privacy": privacy,
    }
    try:
        changes = VideoFields.model_validate(fields)
        await videos.update_video(session, who.account.id, video_id, changes, ctx.public_url)
    except (ValidationError, MoviieError) as refused:
        await session.rollback()  # nothing of a refused form is kept
        video = await videos.get_video(session, who.account.id, video_id)
        [view] = await videos.views(session, [video], ctx.public_url)
        context = await materials_pages.materials_context(session, who, video.id, ctx.public_url)
        message = refusal(refused)
        return page(request, "video.html", status=422, who=who, section="videos", video=view,
                    saved=False, error=message, public_url=ctx.public_url,
                    renditions=_renditions(video), **context)  # fmt: skip
    return redirect(f"/dashboard/videos/{video_id}?saved=1")


# ---- settings: API keys


async def _keys_page(
    request: Request, session: Session, who: Any, *, created: Any = None, error: str | None = None,
    status: int = 200,
) -> HTMLResponse:  # fmt: skip
    rows, _ = await api_keys.list_keys(session, who.account.id, limit=100, after_id=None)
    return page(request, "keys.html", status=status, who=who, section="keys",
                keys=[api_keys.key_view(r) for r in rows], scopes=PRIVATE_SCOPES,
                created=created, error=error)  # fmt: skip


@router.get("/settings/keys", response_class=HTMLResponse)
async def keys(request: Request, session: Session, who: Browser) -> HTMLResponse:
    return await _keys_page(request, session, who)


@router.post("/settings/keys", response_class=HTMLResponse)
async def create_key(
    request: Request,
    session: Session,
    who: Changer,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    type: Annotated[str, Form(max_length=20)] = "private",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    try:
        created = await api_keys.create_key(
            session,
            who.account.id,
            name=name,
            key_type="publishable" if type == "publishable" else "private",
            scopes=(scopes or None) if type != "publishable" else None,
        )
    except MoviieError as refused:
        await session.rollback()  # nothing of a refused form is kept
        return await _keys_page(request, session, who, error=refused.detail, status=422)
    return await _keys_page(request, session, who, created=created)


@router.post("/settings/keys/{key_id}/revoke")
async def revoke_key(key_id: str, session: Session, who: Changer) -> Response:
    await api_keys.revoke_key(session, who.account.id, key_id)
    return redirect("/dashboard/settings/keys")


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(webhooks_pages.router)
    app.include_router(account_pages.router)
    app.include_router(materials_pages.router)
    install_handlers(app)
