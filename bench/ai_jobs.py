"""What the AI-material benchmarks share: ffmpeg and espeak-ng runs, an upload waited for until
ready, and a job timed from its POST until `succeeded` is seen."""

from __future__ import annotations

import asyncio
import subprocess
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

from common import BenchFailed

POLL_S = 0.1


def run_ffmpeg(cmd: list[str], what: str) -> float:
    """Seconds it took; BenchFailed with the end of its errors when it fails."""
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchFailed(f"ffmpeg ({what}) exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return elapsed


def say(sentence: str, speed: int, out: Path) -> tuple[np.ndarray, int]:
    """espeak-ng's 16-bit mono samples of `sentence` and their rate."""
    done = subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", str(speed), "-w", str(out), sentence],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise BenchFailed(f"espeak-ng exited with {done.returncode}: {done.stderr}")
    with wave.open(str(out)) as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16), wav.getframerate()


async def upload_ready(client: Any, headers: dict[str, str], path: Path) -> dict[str, Any]:
    files = {"file": (path.name, await asyncio.to_thread(path.read_bytes), "video/mp4")}
    response = await client.post("/v1/videos", headers=headers, files=files, data={"title": "b"})
    if response.status_code != 201:
        raise BenchFailed(f"POST /v1/videos answered {response.status_code} {response.text[:1500]}")
    video_id = response.json()["id"]
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        video = (await client.get(f"/v1/videos/{video_id}", headers=headers)).json()
        if video["status"] == "ready":
            return dict(video)
        if video["status"] == "failed":
            raise BenchFailed(f"video {video_id} failed: {video.get('error')}")
        await asyncio.sleep(POLL_S)
    raise BenchFailed(f"video {video_id} not ready after 900 s")


async def run_job(
    client: Any, headers: dict[str, str], path: str, body: dict[str, Any]
) -> tuple[float, dict[str, Any]]:
    """POST a material and poll its job: (seconds from the POST to `succeeded` seen, the job)."""
    started = time.perf_counter()
    response = await client.post(path, json=body, headers=headers)
    if response.status_code != 202:
        raise BenchFailed(f"POST {path} answered {response.status_code} {response.text[:1500]}")
    job_id = response.json()["id"]
    while True:
        job: dict[str, Any] = (await client.get(f"/v1/jobs/{job_id}", headers=headers)).json()
        if job["status"] == "succeeded":
            return time.perf_counter() - started, job
        if job["status"] == "failed":
            raise BenchFailed(f"job {job_id} ({path}) failed: {job.get('error')}")
        if time.perf_counter() - started > 3600:
            raise BenchFailed(f"job {job_id} not done after an hour: {job}")
        await asyncio.sleep(POLL_S)
