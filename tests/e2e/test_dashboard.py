"""The dashboard in headless Chromium, as a customer uses it: sign in, upload a generated clip
through the page and see it become ready, create a key and use it against the API, add a
webhook and see a test delivery in its log, make the video private and see the embed refuse
without a token; every page screenshot, no serious accessibility violation (axe-core) on any,
and no script blocked by the pages' Content-Security-Policy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect, sync_playwright

from tests.conftest import roll_up_now
from tests.e2e.test_embed_browser import ARGS, CHROMIUM
from tests.media.clips import video
from tests.servers import moviie_env, moviie_server, run_moviie
from tests.webhooks.receiver import running_receiver

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


def _in_thread(work: Coroutine[Any, Any, Any]) -> None:
    """Playwright's sync API runs an event loop in this thread: async work goes to another."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result()


def test_a_customer_uses_the_dashboard(database_url: str, tmp_path: Path) -> None:
    env = moviie_env(
        database_url, tmp_path / "data", MOVIIE_QUEUE_POLLING_INTERVAL_S="0.1",
        MOVIIE_WEBHOOKS_ALLOW_PRIVATE="true",
    )  # fmt: skip
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
    publishable = json.loads(made.stdout)["publishable_key"]
    clip = video(tmp_path / "clip.mp4", size="640x360", seconds=4)
    shots = tmp_path / "shots"
    shots.mkdir()
    with (
        running_receiver() as receiver,
        moviie_server("serve", env, tmp_path / "serve.log") as base,
        sync_playwright() as pw,
    ):
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

            # Upload through the page (tus): the first chunk's connection drops, tus-js-client
            # asks where the upload stands and resumes; then the row becomes ready.
            dropped: list[str] = []

            def drop_first_patch(route: Route) -> None:
                if route.request.method == "PATCH" and not dropped:
                    dropped.append(route.request.url)
                    route.abort("connectionreset")
                else:
                    route.continue_()

            page.route("**/uploads/**", drop_first_patch)
            page.set_input_files("#upload-file", str(clip))
            page.fill("#upload-title-input", "Dashboard clip")
            page.click("#upload button[type=submit]")
            expect(page.locator("#upload-percent")).to_have_text("100%", timeout=30_000)
            assert len(dropped) == 1
            row = page.locator("#video-rows tr", has_text="Dashboard clip")
            row.locator("[data-status=ready]").wait_for(timeout=60_000)
            video_id = row.get_attribute("id").removeprefix("row-")  # type: ignore[union-attr]
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

            # A webhook endpoint, its secret, and a test delivery seen in its log.
            page.click("nav >> text=Webhooks")
            hook_url = receiver.script("/dash")
            page.fill("#endpoint-url", hook_url)
            page.click("form[action='/dashboard/settings/webhooks'] button[type=submit]")
            secret = page.input_value("#new-secret")
            assert secret.startswith("whsec_")
            page.click("text=Open the endpoint")
            page.click("text=Send a test event")
            assert "webhook.test" in page.locator("[role=status]").inner_text()
            [arrived] = receiver.wait_for("/dash", 1)
            assert json.loads(arrived.body)["event"] == "webhook.test"
            page.locator("tr.delivery[data-status=succeeded]").wait_for(timeout=15_000)
            page.locator("tr.delivery details summary").first.click()
            assert "#1: 200" in page.locator("tr.delivery summary").first.inner_text()
            page.click("text=Reveal secret")
            assert page.input_value("#secret") == secret
            _accessible(page)
            page.screenshot(path=str(shots / "webhook.png"), full_page=True)

            # Views reported (as the player does), rolled up: the analytics page charts them.
            views = [
                {"type": kind, "video_id": video_id, "view_id": "vv_dashboard1", "seq": n,
                 "position_s": at} for n, (kind, at) in enumerate(
                    [("view_start", 0), ("heartbeat", 2), ("view_end", 4)])
            ]  # fmt: skip
            posted = httpx.post(f"{base}/v1/analytics/events", json={
                "key": publishable, "viewer_id": "vw_dashboard1", "events": views})  # fmt: skip
            assert posted.json()["accepted"] == 3
            _in_thread(roll_up_now(database_url))
            for name, link in (("signing-keys", "Signing keys"), ("usage", "Usage"),
                               ("analytics", "Analytics")):  # fmt: skip
                page.click(f"nav >> text={link}")
                _accessible(page)
                page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            assert page.locator("#charts canvas").count() == 3  # views, watch time, retention
            page.click("nav >> text=Signing keys")
            page.click("text=Create a signing key")
            assert "PRIVATE KEY" in page.input_value("#pem")
            page.click("nav >> text=Usage")
            assert "Storage: " in page.locator("label[for=q-storage]").inner_text()

            # The video made private: its embed refuses without a token.
            page.click("nav >> text=Library")
            page.click("text=Dashboard clip")
            assert page.locator("iframe").count() == 1
            facts = page.locator("dl.facts").inner_text()
            assert "360p" in facts
            assert "240p" in facts  # the ladder: the source's 360 and below
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
