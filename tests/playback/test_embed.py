"""Playback info, the embed snippet and page, and private videos behind tokens, on a video that
went through the real pipeline."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
from fastapi import FastAPI

from moviie.accounts.service import NewAccount
from tests.conftest import bearer
from tests.http.test_errors import assert_problem
from tests.media.clips import video as make_clip


async def _ready_video(client: httpx.AsyncClient, key: str, clip: Path) -> dict[str, Any]:
    created = await client.post(
        "/v1/videos", headers=bearer(key), files={"file": ("c.mp4", clip.read_bytes(), "video/mp4")}
    )
    video_id = created.json()["id"]
    for _ in range(300):
        body: dict[str, Any] = (
            await client.get(f"/v1/videos/{video_id}", headers=bearer(key))
        ).json()
        if body["status"] != "processing":
            assert body["status"] == "ready", body
            return body
        await asyncio.sleep(0.1)
    raise AssertionError("never ready")


async def test_playback_embed_and_private_videos(
    app_with_workers: FastAPI, account: NewAccount, tmp_path: Path
) -> None:
    transport = httpx.ASGITransport(app=app_with_workers)
    key, pub = account.private_key, account.publishable_key
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        waiting = (
            await client.post("/v1/videos/uploads/reserve", json={}, headers=bearer(key))
        ).json()
        not_ready = await client.get(
            f"/v1/videos/{waiting['video']['id']}/playback", headers=bearer(key)
        )
        assert_problem(not_ready, 409, "video_not_ready")

        video = await _ready_video(client, key, make_clip(tmp_path / "c.mp4", size="640x360"))
        vid = video["id"]
        for caller in (key, pub):
            info = await client.get(f"/v1/videos/{vid}/playback", headers=bearer(caller))
            assert info.status_code == 200, info.text
            assert info.json()["hls"] == video["playback"]["hls"]
            assert info.json()["embed"] == video["embed"]
        embed = (await client.get(f"/v1/videos/{vid}/embed", headers=bearer(pub))).json()
        assert f'src="{video["embed"]}"' in embed["html"]
        assert (embed["width"], embed["height"]) == (640, 360)
        page = await client.get(f"/embed/{vid}")
        assert page.status_code == 200
        assert "/static/vendor/hls.js/hls.min.js" in page.text
        assert video["playback"]["hls"] in page.text
        assert (await client.get("/static/vendor/hls.js/hls.min.js")).status_code == 200
        master_path = httpx.URL(video["playback"]["hls"]).path
        assert (await client.get(master_path)).status_code == 200

        # private: nothing without a token signed by the account's key
        await client.patch(f"/v1/videos/{vid}", json={"privacy": "private"}, headers=bearer(key))
        assert_problem(
            await client.get(f"/v1/videos/{vid}/playback", headers=bearer(pub)),
            403,
            "video_private",
        )
        assert (
            await client.get(f"/v1/videos/{vid}/playback", headers=bearer(key))
        ).status_code == 200
        assert_problem(await client.get(f"/embed/{vid}"), 403, "video_private")
        assert_problem(await client.get(master_path), 403, "video_private")
        assert_problem(
            await client.get(httpx.URL(video["playback"]["poster"]).path), 403, "video_private"
        )

        signing = (await client.post("/v1/signing-keys", headers=bearer(key))).json()
        token = jwt.encode(
            {"sub": vid, "aud": "playback", "exp": int(time.time()) + 600},
            signing["private_key"],
            algorithm="RS256",
            headers={"kid": signing["id"]},
        )
        page = await client.get(f"/embed/{vid}", params={"token": token})
        assert page.status_code == 200
        assert page.headers["cache-control"] == "private, no-store"
        assert token in page.text
        master = await client.get(master_path, params={"token": token})
        assert master.status_code == 200
        assert "public" not in master.headers["cache-control"]
        wrong = jwt.encode(
            {"sub": waiting["video"]["id"], "aud": "playback", "exp": int(time.time()) + 600},
            signing["private_key"],
            algorithm="RS256",
            headers={"kid": signing["id"]},
        )
        assert_problem(await client.get(master_path, params={"token": wrong}), 403, "video_private")
        await _check_token_travels_down_the_playlists(client, master_path, master.text, token)


async def _check_token_travels_down_the_playlists(
    client: httpx.AsyncClient, master_path: str, master: str, token: str
) -> None:
    """A player that knows nothing of tokens (Safari's own HLS) finds it on every URI."""
    base = master_path.rsplit("/", 1)[0]
    variants = [line for line in master.splitlines() if line and not line.startswith("#")]
    assert variants
    assert all(line.endswith(f"?token={token}") for line in variants), master
    variant = await client.get(f"{base}/{variants[0]}")  # exactly as the playlist names it
    assert variant.status_code == 200, variant.text
    assert variant.headers["cache-control"] == "private, max-age=300"
    init = next(line for line in variant.text.splitlines() if line.startswith("#EXT-X-MAP"))
    assert f'?token={token}"' in init, init
    folder = f"{base}/{variants[0].split('/', 1)[0]}"
    segments = [line for line in variant.text.splitlines() if line.endswith(f"?token={token}")]
    assert segments
    assert (await client.get(f"{folder}/{segments[0]}")).status_code == 200
    bare = segments[0].split("?", 1)[0]
    assert_problem(await client.get(f"{folder}/{bare}"), 403, "video_private")
