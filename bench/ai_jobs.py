"""What the AI-material benchmarks share: their command line, moviie's settings over a fresh
database, ffmpeg and espeak-ng runs, an upload waited for until ready, and a job timed from its
POST until `succeeded` is seen."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import time
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from common import BenchFailed, create_pg_database, drop_pg_database, run_benchmark

if TYPE_CHECKING:
    from moviie.config import Settings

POLL_S = 0.1


def main_for(
    doc: str | None,
    prefix: str,
    default_minutes: int,
    run: Callable[[argparse.Namespace, Path], int],
    what: str = "talk",
) -> int:
    """A bench's `main`: `--minutes` (the length of `what`, >= 1), `--database`, `--keep-tmp`
    parsed, then `run(args, tmp)` through `run_benchmark` in a temp dir named from `prefix`."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--minutes", type=int, default=default_minutes, help=f"length of the {what}"
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    if args.minutes < 1:
        parser.error("--minutes must be >= 1")
    return run_benchmark(prefix, lambda tmp, _procs: run(args, tmp), keep_tmp=args.keep_tmp)


@contextmanager
def moviie_settings(database: str, tmp: Path, **overrides: Any) -> Iterator[Settings]:
    """Settings for an in-process moviie in `tmp/"data"`, over SQLite there or a fresh PostgreSQL
    database (`database`), logging configured and migrated; the database dropped at the end.
    Console logs at WARNING, queue polling every POLL_S, no rate limit; `overrides` on top."""
    from moviie.config import Settings
    from moviie.db import migrate
    from moviie.jobs.engine import migrate_engine
    from moviie.log import configure_logging

    data_dir = tmp / "data"
    data_dir.mkdir()
    sqlite = database == "sqlite"
    url = f"sqlite:///{data_dir / 'moviie.db'}" if sqlite else create_pg_database()
    try:
        fields: dict[str, Any] = {
            "data_dir": data_dir,
            "database_url": url,
            "log_format": "console",
            "log_level": "WARNING",
            "queue_polling_interval_s": POLL_S,
            "rate_limit_per_minute": 10**9,
        }
        settings = Settings(**(fields | overrides))
        configure_logging(settings.log_format, settings.log_level)
        migrate.upgrade(url)
        migrate_engine(settings)
        yield settings
    finally:
        if not sqlite:
            drop_pg_database(url)


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
