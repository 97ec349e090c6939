"""The embed page in headless Chromium (Debian's, driven by Playwright): a public video plays, a
private one plays with a token and shows nothing without it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.media.clips import video
from tests.servers import create_account, moviie_env, moviie_server

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _ready(base: str, key: str, clip: Path) -> str:
    headers = {"Authorization": f"Bearer {key}"}
    files = {"file": ("clip.mp4", clip.read_bytes(), "video/mp4")}
    video_id = str(
        httpx.post(f"{base}/v1/videos", headers=headers, files=files, timeout=60).json()["id"]
    )
    for _ in range(600):
        status = httpx.get(f"{base}/v1/videos/{video_id}", headers=headers).json()["status"]
        if status != "processing":
            assert status == "ready"
            return video_id
        time.sleep(0.1)
    raise AssertionError("never ready")


def _watch(browser: Browser, url: str, screenshot: Path) -> None:
    page = browser.new_page(viewport={"width": 960, "height": 540})
    refused: list[str] = []
    page.on("response", lambda r: refused.append(r.url) if r.status >= 400 else None)
    page.goto(url)
    _use_the_controls(page, screenshot)
    assert refused == []  # every playlist, segment and thumbnail was let through
    page.close()


def _use_the_controls(page: Page, screenshot: Path) -> None:
    """Play with the play button, pick a quality from the menu, hover the seek bar for a
    storyboard thumbnail."""
    page.evaluate("document.getElementById('player').muted = true")
    page.click(".mv-play")
    page.wait_for_function("document.getElementById('player').currentTime > 1.5", timeout=30_000)
    assert page.evaluate("document.getElementById('player').videoWidth") > 0
    assert page.get_attribute(".mv-play", "aria-label") == "Pause"  # while it plays (6 s)
    menu = page.locator(".mv-quality option").all_inner_texts()
    assert menu[0].startswith("Auto")
    assert menu[1:] == ["720p", "480p", "360p", "240p"]
    page.select_option(".mv-quality", label="240p")
    page.wait_for_function("document.getElementById('player').videoHeight === 240", timeout=30_000)
    assert page.evaluate("window.moviie.hls.autoLevelEnabled") is False
    box = page.locator(".mv-seek").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    thumb = page.locator(".mv-thumb")
    thumb.wait_for(state="visible", timeout=10_000)
    style = thumb.evaluate(
        "e => [e.style.backgroundImage, e.style.backgroundPosition, e.offsetWidth]"
    )
    assert "storyboard.jpg" in style[0]
    assert style[1] == "-480px 0px"  # 6 s clip, one thumbnail a second: the 4th at 3 s
    assert thumb.inner_text() == "0:03"
    page.screenshot(path=str(screenshot))


def test_the_embed_page_plays_public_and_private_videos(database_url: str, tmp_path: Path) -> None:
    env = moviie_env(database_url, tmp_path / "data", MOVIIE_QUEUE_POLLING_INTERVAL_S="0.1")
    key = create_account(env, f"b-{tmp_path.name}")["private_key"]
    clip = video(tmp_path / "clip.mp4", size="1280x720", seconds=6)
    with moviie_server("serve", env, tmp_path / "serve.log") as base, sync_playwright() as pw:
        public_id = _ready(base, key, clip)
        private_id = _ready(base, key, clip)
        headers = {"Authorization": f"Bearer {key}"}
        httpx.patch(f"{base}/v1/videos/{private_id}", json={"privacy": "private"}, headers=headers)
        signing = httpx.post(f"{base}/v1/signing-keys", headers=headers).json()
        token = jwt.encode(
            {"sub": private_id, "aud": "playback", "exp": int(time.time()) + 600},
            signing["private_key"],
            algorithm="RS256",
            headers={"kid": signing["id"]},
        )
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for url in (f"{base}/embed/{public_id}", f"{base}/embed/{private_id}?token={token}"):
                _watch(browser, url, tmp_path / f"{url.rsplit('/', 1)[-1][:30]}.png")
            seek = browser.new_page()  # ?t= starts there (chapters and quiz questions link so)
            seek.goto(f"{base}/embed/{public_id}?t=4")
            seek.wait_for_function(
                "document.getElementById('player').readyState >= 1", timeout=30_000
            )
            seek.wait_for_function(
                "document.getElementById('player').currentTime >= 3.9", timeout=10_000
            )
            page = browser.new_page()
            response = page.goto(f"{base}/embed/{private_id}")
            assert response is not None
            assert response.status == 403
            assert page.locator("video").count() == 0
        finally:
            browser.close()
