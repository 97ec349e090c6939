"""What the AI-material benchmarks share: their command line, moviie's settings over a fresh
database, generated speech (espeak-ng), moviie in this process with a client and an account, an
upload waited for until ready, and a job timed from its POST until `succeeded` is seen, split
into the job engine's steps."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import time
import uuid
import wave
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from common import BenchFailed, bench_parser, fresh_database, run_benchmark

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
    parser = bench_parser(doc)
    parser.add_argument(
        "--minutes", type=int, default=default_minutes, help=f"length of the {what}"
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    if args.minutes < 1:
        parser.error("--minutes must be >= 1")
    return run_benchmark(prefix, lambda tmp, _procs: run(args, tmp), keep_tmp=args.keep_tmp)


def print_source(
    what: str, args: argparse.Namespace, video: Path, details: str, started: float
) -> None:
    """The line about the generated source `video`: its length, `details`, size and the time it
    took since `started`, then the machine and database of the run."""
    print(
        f"{what}: {args.minutes} min, {details}, {video.stat().st_size / 1e6:.1f} MB, generated "
        f"in {time.perf_counter() - started:.1f} s; {os.cpu_count()} CPUs; {args.database}",
        flush=True,
    )


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
    with fresh_database(database, data_dir / "moviie.db") as url:
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


# --------------------------------------------------------------------------------------------
# Speech


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


def write_wav(path: Path, parts: list[np.ndarray], rate: int) -> None:
    """16-bit mono samples, one after the other, as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.concatenate(parts).tobytes())


@dataclass
class Speech:
    wav: Path
    said: list[str]  # the sentences, in the order said

    @property
    def words(self) -> int:
        return sum(len(sentence.split()) for sentence in self.said)


def speech_wav(
    directory: Path,
    sentences: Sequence[str],
    speeds: Sequence[int],
    seconds: float,
    rng: random.Random,
    pause: Callable[[], float],
) -> Speech:
    """`seconds` of `sentences` (every one once per round, in a shuffled order, each at a random
    one of `speeds`), `pause()` seconds of silence before each, silence padding the end, as
    `directory/speech.wav`. Each (sentence, speed) is said once by espeak-ng and reused."""
    takes: dict[tuple[int, int], np.ndarray] = {}
    rate = 0
    parts: list[np.ndarray] = []
    length = 0  # samples so far
    said: list[str] = []
    order: list[tuple[int, int]] = []
    while True:
        if not order:
            order = [(n, rng.choice(speeds)) for n in range(len(sentences))]
            rng.shuffle(order)
        key = order.pop()
        if key not in takes:
            takes[key], rate = say(sentences[key[0]], key[1], directory / f"s{key[0]}-{key[1]}.wav")
        gap = np.zeros(int(pause() * rate), dtype=np.int16)
        if (length + len(gap) + len(takes[key])) / rate > seconds:
            break
        parts += [gap, takes[key]]
        length += len(gap) + len(takes[key])
        said.append(sentences[key[0]])
    parts.append(np.zeros(int(seconds * rate) - length, dtype=np.int16))
    path = directory / "speech.wav"
    write_wav(path, parts, rate)
    return Speech(path, said)


# --------------------------------------------------------------------------------------------
# Moviie, in process


@dataclass
class Step:
    name: str
    seconds: float
    child: str | None = None  # a child workflow's id


@dataclass
class JobRun:
    seconds: float  # POST start -> succeeded seen
    job: dict[str, Any]
    steps: list[Step] = field(default_factory=list)  # the engine's records of the job's workflow
    note: str = ""  # why the steps are missing, if they are

    def step(self, name: str) -> float:
        return sum(s.seconds for s in self.steps if s.name == name)


async def engine_steps(app: Any, job_id: str) -> list[Step]:
    """Each step of the job's workflow (its id is the job's) and how long it took, in order. A
    child workflow has two records, its start and the parent's wait for its result
    (`DBOS.getResult`): its time runs from the first's start to the second's end, and it comes
    after the steps."""
    from sqlalchemy import text

    schema = "" if app.state.settings.database_url.startswith("sqlite") else "dbos."
    async with app.state.db.transaction(write=False) as session:
        rows = (
            await session.execute(
                text(
                    "SELECT function_name, started_at_epoch_ms, completed_at_epoch_ms, "
                    f"child_workflow_id FROM {schema}operation_outputs "
                    "WHERE workflow_uuid = :id ORDER BY function_id"
                ),
                {"id": job_id},
            )
        ).all()
    steps: list[Step] = []
    children: dict[str, tuple[str, int, int]] = {}  # id -> (name, first start, last end)
    for name, began, ended, child in rows:
        if not (began and ended):
            continue
        short = name.rsplit(".", 1)[-1]
        if child is None:
            steps.append(Step(short, (ended - began) / 1000))
            continue
        known, first, last = children.get(child, (short, began, ended))
        if name == "DBOS.getResult":
            short = known
        children[child] = (short, min(first, began), max(last, ended))
    steps += [Step(n, (e - b) / 1000, child) for child, (n, b, e) in children.items()]
    return steps


def job_record(job: dict[str, Any]) -> str:
    """Queued and running time from the job's own timestamps."""
    try:
        created, begun, ended = (
            datetime.fromisoformat(job[k]) for k in ("created_at", "started_at", "finished_at")
        )
    except (TypeError, ValueError, KeyError):
        return "(timestamps missing)"
    return (
        f"queued {(begun - created).total_seconds():.2f} s, "
        f"running {(ended - begun).total_seconds():.2f} s"
    )


@dataclass
class Moviie:
    """Moviie's app in this process, a client of it and one account's headers."""

    app: Any
    client: Any  # httpx.AsyncClient over ASGITransport
    headers: dict[str, str]

    async def upload_ready(self, path: Path) -> dict[str, Any]:
        """Upload `path` and wait until the video is ready (printing how long it took); the
        video."""
        started = time.perf_counter()
        files = {"file": (path.name, await asyncio.to_thread(path.read_bytes), "video/mp4")}
        response = await self.client.post(
            "/v1/videos", headers=self.headers, files=files, data={"title": "b"}
        )
        if response.status_code != 201:
            raise BenchFailed(
                f"POST /v1/videos answered {response.status_code} {response.text[:1500]}"
            )
        video_id = response.json()["id"]
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            video = (await self.client.get(f"/v1/videos/{video_id}", headers=self.headers)).json()
            if video["status"] == "ready":
                print(f"{path.name} uploaded and ready in {time.perf_counter() - started:.1f} s")
                return dict(video)
            if video["status"] == "failed":
                raise BenchFailed(f"video {video_id} failed: {video.get('error')}")
            await asyncio.sleep(POLL_S)
        raise BenchFailed(f"video {video_id} not ready after 900 s")

    async def run_job(self, path: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        """POST a material and poll its job: (seconds from the POST to `succeeded` seen, the
        job)."""
        started = time.perf_counter()
        response = await self.client.post(path, json=body, headers=self.headers)
        if response.status_code != 202:
            raise BenchFailed(f"POST {path} answered {response.status_code} {response.text[:1500]}")
        job_id = response.json()["id"]
        while True:
            job: dict[str, Any] = (
                await self.client.get(f"/v1/jobs/{job_id}", headers=self.headers)
            ).json()
            if job["status"] == "succeeded":
                return time.perf_counter() - started, job
            if job["status"] == "failed":
                raise BenchFailed(f"job {job_id} ({path}) failed: {job.get('error')}")
            if time.perf_counter() - started > 3600:
                raise BenchFailed(f"job {job_id} not done after an hour: {job}")
            await asyncio.sleep(POLL_S)

    async def timed_job(self, path: str, body: dict[str, Any]) -> JobRun:
        """`run_job`, then its steps from the engine's records (a note when they are not
        readable: the time still counts)."""
        seconds, job = await self.run_job(path, body)
        run = JobRun(seconds, job)
        try:
            run.steps = await engine_steps(self.app, job["id"])
        except Exception as exc:
            run.note = f"(engine records not readable: {exc})"
        return run


@asynccontextmanager
async def in_process_moviie(
    settings: Settings, charges: list[tuple[str, float]], note: str
) -> AsyncIterator[Moviie]:
    """`create_app(settings, worker_queues=QUEUES)` inside its lifespan (API and workers, as
    `moviie serve`), a new account with enough credits for `charges` [(material, seconds)]
    (granted with `note` when the trial's fall short), and a client through ASGITransport."""
    import httpx

    from moviie.accounts.service import create_account
    from moviie.ai.pricing import price
    from moviie.app import create_app
    from moviie.credits.service import grant
    from moviie.jobs.queues import QUEUES

    app = create_app(settings, worker_queues=QUEUES)
    async with app.router.lifespan_context(app):
        async with app.state.db.transaction() as session:
            account = await create_account(
                session, email=f"{uuid.uuid4().hex[:10]}@example.test", name="Bench"
            )
            needed = sum(price(material, seconds) for material, seconds in charges)
            if account.account.credits_balance < needed:
                await grant(session, account.account.id, needed, note=note)
        headers = {"Authorization": f"Bearer {account.private_key}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://moviie.test", timeout=httpx.Timeout(600.0)
        ) as client:
            yield Moviie(app, client, headers)
