"""Uploading test media through the API and waiting for the pipeline, for in-process apps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import bearer

Video = dict[str, Any]


async def upload(client: httpx.AsyncClient, key: str, path: Path, **fields: str) -> str:
    files = {"file": (path.name, path.read_bytes(), "application/octet-stream")}
    response = await client.post("/v1/videos", headers=bearer(key), files=files, data=fields)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def wait_until(
    client: httpx.AsyncClient,
    key: str,
    video_id: str,
    done: Callable[[Video], bool],
    *,
    timeout_s: float = 90,
    seen: list[Video] | None = None,
) -> Video:
    """Poll the video until `done(video)`; every reading goes to `seen` if given."""
    body: Video = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        body = (await client.get(f"/v1/videos/{video_id}", headers=bearer(key))).json()
        if seen is not None:
            seen.append(body)
        if done(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"video never got there: {body}")


async def settled(client: httpx.AsyncClient, key: str, video_id: str) -> Video:
    """The video once processing ended, ready or failed."""
    return await wait_until(
        client, key, video_id, lambda v: v["status"] not in ("uploading", "processing")
    )


async def ready(client: httpx.AsyncClient, key: str, path: Path) -> Video:
    video = await settled(client, key, await upload(client, key, path))
    assert video["status"] == "ready", video
    return video
