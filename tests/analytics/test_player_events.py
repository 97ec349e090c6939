"""The embed player's audience events, in headless Chromium: a viewing (start, a heartbeat, a
seek back, the end sent by sendBeacon as the page goes) arrives and rolls up into the figures."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Playwright, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from moviie.db.engine import create_sync_db_engine
from moviie.db.models import AnalyticsEvent
from tests.conftest import roll_up_now
from tests.e2e.test_embed_browser import ARGS, CHROMIUM, _ready
from tests.media.clips import video
from tests.servers import create_account, moviie_env, moviie_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _events(url: str, video_id: str) -> list[AnalyticsEvent]:
    """Read without an event loop (Playwright's sync API runs one in this thread)."""
    engine = create_sync_db_engine(url)
    try:
        with Session(engine) as session:
            stmt = select(AnalyticsEvent).where(AnalyticsEvent.video_id == video_id)
            return list(session.scalars(stmt.order_by(AnalyticsEvent.seq)).all())
    finally:
        engine.dispose()


def _watch(pw: Playwright, base: str, video_id: str, url: str) -> list[AnalyticsEvent]:
    """Play past a heartbeat, seek back, leave the page; the events once view_end is in."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    try:
        page = browser.new_page()
        page.goto(f"{base}/embed/{video_id}")
        page.evaluate("document.getElementById('player').muted = true")
        page.click(".mv-play")
        page.wait_for_function("document.getElementById('player').currentTime > 11", timeout=30_000)
        page.evaluate("document.getElementById('player').currentTime = 3")
        page.wait_for_function("document.getElementById('player').currentTime > 4", timeout=10_000)
        page.goto("about:blank")  # pagehide: view_end goes by sendBeacon
        deadline = time.monotonic() + 15
        events = _events(url, video_id)
        while "view_end" not in [e.type for e in events] and time.monotonic() < deadline:
            time.sleep(0.3)
            events = _events(url, video_id)
        return events
    finally:
        browser.close()


def test_the_embed_reports_a_viewing(database_url: str, tmp_path: Path) -> None:
    env = moviie_env(database_url, tmp_path / "data", MOVIIE_QUEUE_POLLING_INTERVAL_S="0.1")
    key = create_account(env, f"a-{tmp_path.name}")["private_key"]
    clip = video(tmp_path / "clip.mp4", size="640x360", seconds=16)
    with moviie_server("serve", env, tmp_path / "serve.log") as base:
        video_id = _ready(base, key, clip)
        with sync_playwright() as pw:
            events = _watch(pw, base, video_id, database_url)
        kinds = [e.type for e in events]
        assert kinds[0] == "view_start", kinds
        assert "heartbeat" in kinds
        assert "seek" in kinds
        assert kinds[-1] == "view_end"
        assert len({e.view_id for e in events}) == 1
        assert len({e.viewer_id for e in events}) == 1
        seek = next(e for e in events if e.type == "seek")
        assert seek.from_s is not None
        assert seek.from_s > 10
        assert seek.position_s == pytest.approx(3, abs=0.5)
        asyncio.run(roll_up_now(database_url))
        figures = httpx.get(
            f"{base}/v1/analytics/videos/{video_id}", headers={"Authorization": f"Bearer {key}"}
        ).json()
    totals = figures["totals"]
    assert totals["views"] == 1
    assert totals["unique_viewers"] == 1
    assert totals["watch_time_s"] >= 9
    assert figures["retention"][10] == 1.0  # 1.6 s into 16 s: seen
    assert set(figures["renditions"]) <= {"360p", "240p", "unknown"}
