"""The dashboard in headless Chromium, as a customer uses it: sign in, upload a generated clip
through the page and see it become ready, create a key and use it against the API, make the
video private and see the embed refuse without a token; no serious accessibility violation
(axe-core) on any page, and no script blocked by the pages' Content-Security-Policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.test_embed_browser import ARGS, CHROMIUM
from tests.media.clips import video
from tests.servers import moviie_env, moviie_server, run_moviie

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
PASSWORD = "a long enough password"


def _accessible(page: Page) -> None:
    """axe-core in the page (evaluated through the debugger: the page's CSP stays on)."""
    found: dict[str, Any] = page.evaluate(
        AXE + "\n;axe.run(document, {resultTypes: ['violations']})"
    )
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in found["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious


def test_a_customer_uses_the_dashboard(database_url: str, tmp_path: Path) -> None:
    env = moviie_env(database_url, tmp_path / "data", MOVIIE_QUEUE_POLLING_INTERVAL_S="0.1")
    email = f"d-{tmp_path.name[-20:]}@example.com"
    made = run_moviie(
        [
            "accounts",
            "create",
            "--email",
            email,
            "--name",
            "Dash",
            "--password",
            PASSWORD,
            "--json",
        ],
        env,
    )
    assert made.returncode == 0, made.stderr
    clip = video(tmp_path / "clip.mp4", size="640x360", seconds=4)
    shots = tmp_path / "shots"
    shots.mkdir()
    with moviie_server("serve", env, tmp_path / "serve.log") as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            blocked: list[str] = []
            page.on(
                "console",
                lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
            )

            page.goto(f"{base}/dashboard")
            assert page.url.startswith(f"{base}/dashboard/sign-in")
            _accessible(page)
            page.screenshot(path=str(shots / "sign-in.png"))
            page.fill("#email", email)
            page.fill("#password", "wrong password here")
            page.click("button[type=submit]")
            assert (
                page.locator("[role=alert]").inner_text() == "That email and password do not match."
            )
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/dashboard/videos")

            # Upload through the page (tus), then watch the row become ready.
            page.set_input_files("#upload-file", str(clip))
            page.fill("#upload-title-input", "Dashboard clip")
            page.click("#upload button[type=submit]")
            expect(page.locator("#upload-percent")).to_have_text("100%", timeout=30_000)
            row = page.locator("#video-rows tr", has_text="Dashboard clip")
            row.locator("[data-status=ready]").wait_for(timeout=60_000)
            _accessible(page)
            page.screenshot(path=str(shots / "library.png"))

            # A key made on the page works against the API.
            page.click("nav >> text=API keys")
            page.fill("#key-name", "made in the dashboard")
            page.click("form[action='/dashboard/settings/keys'] button[type=submit]")
            key = page.input_value("#new-key")
            assert key.startswith("mvi_live_")
            me = httpx.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {key}"})
            assert me.status_code == 200
            assert me.json()["email"] == email
            _accessible(page)
            page.screenshot(path=str(shots / "keys.png"))

            # The video made private: its embed refuses without a token.
            page.click("nav >> text=Library")
            page.click("text=Dashboard clip")
            video_id = page.url.rsplit("/", 1)[-1]
            assert page.locator("iframe").count() == 1
            _accessible(page)
            page.screenshot(path=str(shots / "video.png"))
            page.select_option("#privacy", "private")
            page.click("form[action^='/dashboard/videos/vid_'] button[type=submit]")
            assert page.locator("[role=status]").inner_text() == "Saved."
            assert page.locator("iframe").count() == 0
            embed = httpx.get(f"{base}/embed/{video_id}")
            assert embed.status_code == 403

            # Signed out, the pages are closed again; a form without its token is refused.
            page.click("text=Sign out")
            page.wait_for_url(f"{base}/dashboard/sign-in")
            page.goto(f"{base}/dashboard/settings/keys")
            assert page.url.startswith(f"{base}/dashboard/sign-in")
            assert blocked == []
        finally:
            browser.close()
    print(json.dumps({"screenshots": str(shots)}))
