"""Settings → Signing keys (private playback), Usage and plan (quota bars, the credits ledger,
the trial), and Analytics (the account's audience, charted), through the same services as the
API."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from moviie.accounts import service as accounts
from moviie.analytics import service as analytics
from moviie.credits import service as credits
from moviie.dashboard.web import Browser, Changer, page, redirect
from moviie.db.types import utcnow
from moviie.http.session import Session
from moviie.playback import signing_keys

router = APIRouter(prefix="/dashboard", include_in_schema=False)


@router.get("/settings/signing-keys", response_class=HTMLResponse)
async def signing(request: Request, session: Session, who: Browser) -> HTMLResponse:
    rows, _ = await signing_keys.list_signing_keys(
        session, who.account.id, limit=100, after_id=None
    )
    return page(request, "signing_keys.html", who=who, section="signing", keys=rows, created=None)


@router.post("/settings/signing-keys", response_class=HTMLResponse)
async def create_signing(request: Request, session: Session, who: Changer) -> HTMLResponse:
    created = await signing_keys.create_signing_key(session, who.account.id)
    rows, _ = await signing_keys.list_signing_keys(
        session, who.account.id, limit=100, after_id=None
    )
    return page(request, "signing_keys.html", who=who, section="signing", keys=rows,
                created=created)  # fmt: skip


@router.post("/settings/signing-keys/{key_id}/delete")
async def delete_signing(key_id: str, session: Session, who: Changer) -> Response:
    await signing_keys.delete_signing_key(session, who.account.id, key_id)
    return redirect("/dashboard/settings/signing-keys")


@router.get("/usage", response_class=HTMLResponse)
async def usage(request: Request, session: Session, who: Browser) -> HTMLResponse:
    me = await accounts.account_with_usage(session, who.account)
    entries, _ = await credits.list_ledger(session, who.account.id, limit=50, after_id=None)
    return page(request, "usage.html", who=who, section="usage", me=me,
                ledger=[credits.entry_view(e) for e in entries], now=utcnow())  # fmt: skip


@router.get("/analytics", response_class=HTMLResponse)
async def audience(request: Request, session: Session, who: Browser) -> HTMLResponse:
    now = utcnow()
    overview = await analytics.overview(
        session, who.account.id, start=now - timedelta(days=30), end=now, now=now
    )
    top = overview.top_videos[0].video_id if overview.top_videos else None
    figures = None
    if top is not None:
        figures = await analytics.video_analytics(
            session, who.account.id, top, start=now - timedelta(days=30), end=now,
            interval="day", now=now,
        )  # fmt: skip
    charts = None
    if figures is not None:
        charts = json.dumps({
            "days": [int(p.start.timestamp()) for p in figures.series],
            "views": [p.views for p in figures.series],
            "watch_minutes": [round(p.watch_time_s / 60, 1) for p in figures.series],
            "retention": figures.retention,
        })  # fmt: skip
    return page(request, "analytics.html", who=who, section="analytics", overview=overview,
                figures=figures, charts=charts)  # fmt: skip
