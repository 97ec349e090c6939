"""A dubbed video in the embed player, in headless Chromium: the audio menu offers the original
and the dub, and picking the dub plays its rendition."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.test_embed_browser import ARGS, CHROMIUM, _ready
from tests.servers import create_account, moviie_env, moviie_server
from tests.subtitles.speech import Speech

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _dubbed(base: str, key: str, video_id: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    asked = httpx.post(
        f"{base}/v1/videos/{video_id}/lipsync", json={"target_language": "es"}, headers=headers
    )
    assert asked.status_code == 202, asked.text
    for _ in range(3000):
        job = httpx.get(f"{base}/v1/jobs/{asked.json()['id']}", headers=headers).json()
        if job["status"] in ("succeeded", "failed"):
            assert job["status"] == "succeeded", job["error"]
            return
        time.sleep(0.1)
    raise AssertionError("the dub never finished")


def test_the_embed_plays_the_dub(database_url: str, tmp_path: Path, talk: Speech) -> None:
    env = moviie_env(database_url, tmp_path / "data", MOVIIE_QUEUE_POLLING_INTERVAL_S="0.1")
    key = create_account(env, f"d-{tmp_path.name}")["private_key"]
    with moviie_server("serve", env, tmp_path / "serve.log") as base, sync_playwright() as pw:
        video_id = _ready(base, key, talk.path)
        _dubbed(base, key, video_id)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 960, "height": 540})
            refused: list[str] = []
            dub_parts: list[str] = []
            page.on("response", lambda r: refused.append(r.url) if r.status >= 400 else None)
            page.on(
                "response", lambda r: dub_parts.append(r.url) if "/hls/dubs/" in r.url else None
            )
            page.goto(f"{base}/embed/{video_id}")
            page.evaluate("document.getElementById('player').muted = true")
            page.evaluate(
                "window.fatal = []; window.moviie.hls.on(Hls.Events.ERROR,"
                " (_e, d) => { if (d.fatal) window.fatal.push(d.details); })"
            )
            page.locator(".mv-dub").wait_for(state="visible", timeout=30_000)
            assert page.locator(".mv-dub option").all_inner_texts() == [
                "Original",
                "Español (dub)",
            ]
            # Playing, switch to the dub: it goes on, now from the dub's own segments.
            page.click(".mv-play")
            player = "document.getElementById('player')"
            page.wait_for_function(f"{player}.currentTime > 1", timeout=60_000)
            page.select_option(".mv-dub", label="Español (dub)")
            page.wait_for_function("window.moviie.hls.audioTrack === 1", timeout=30_000)
            switched = page.evaluate(f"{player}.currentTime")
            page.wait_for_function(f"{player}.currentTime > {switched + 2}", timeout=60_000)
            assert page.evaluate("window.fatal") == []  # no media source reset, no stall
            page.screenshot(path=str(tmp_path / "dub.png"))
        finally:
            browser.close()
    assert refused == []
    assert any(url.split("?")[0].endswith(".m4s") for url in dub_parts), dub_parts
