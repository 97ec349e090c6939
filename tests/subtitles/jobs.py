"""Polling a job as a customer would."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import bearer

Job = dict[str, Any]


async def finished(
    client: httpx.AsyncClient, key: str, job_id: str, *, timeout_s: float = 240
) -> tuple[Job, list[float]]:
    """The job once it succeeded or failed, and every progress value seen on the way."""
    seen: list[float] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    job: Job = {}
    while loop.time() < deadline:
        response = await client.get(f"/v1/jobs/{job_id}", headers=bearer(key))
        assert response.status_code == 200, response.text
        job = response.json()
        seen.append(job["progress"])
        if job["status"] in ("succeeded", "failed"):
            return job, seen
        await asyncio.sleep(0.1)
    raise AssertionError(f"job never finished: {job}")


def path_of(url: str) -> str:
    """The path of one of Moviie's absolute URLs, for the in-process client."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]
