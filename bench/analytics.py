"""Player analytics: event intake through the full Moviie stack next to a bare insert of the same
batch, and the two query endpoints over a year of rollups next to a bare SELECT of the same rows.

    .venv/bin/python bench/analytics.py [--backend sqlite|postgresql|both] [--seconds 10]
                                        [--events 10000000] [--concurrency 32] [--keep-tmp]

For each backend (a SQLite file, or a new PostgreSQL database on `MOVIIE_BENCH_PG_URL`, as
bench/api.py does) it runs `python -m moviie migrate`, creates one account with
`python -m moviie accounts create --json` (a private and a publishable key) and inserts 200
ready, public videos of 600 s straight into `videos`. It serves two apps with uvicorn (one
worker each, in their own processes, on 127.0.0.1):

* full: `moviie.app.create_app`, with the global rate limit and both analytics budgets
  (events per key, batches per viewer) raised to 10^9/min: counted, never refusing;
* bare: a FastAPI app defined here. `POST /bare/events` reads the body, parses it as
  `moviie.analytics.schemas.EventBatch` and inserts its 20 rows into `analytics_events` with one
  executemany through `moviie.db.engine.Database`. No key, no checks.

1. ingest: another process (wrk with a Lua script when installed, else an asyncio httpx client)
   POSTs batches of 20 heartbeats for `--seconds`, rotating 256 prepared bodies (256 viewers,
   one view each, over the 200 videos; the publishable key as `key`). After a warm-up it loads
   each app in turn for `--rounds` rounds and keeps the best round of each. It prints
   batches/s, events/s, p50/p99 and the full/bare throughput ratio.
2. queries: the query endpoints read only `analytics_rollups`, so the bench writes the rollup
   rows that a year of `--events` player events over the 200 videos would have produced (about
   10 events per view; see bench/README.md for the model), in one transaction (COPY on
   PostgreSQL). Then, after warm-ups, it times `--requests` sequential requests per endpoint
   with the private key, each followed by the bare SELECT (the repository's WHERE, Core rows,
   through a `Database` on the same URL, in this process):
   * `GET /v1/analytics/videos/{id}?from=<1 year ago>&to=<now>&interval=day`;
   * the same with `interval=hour` over the last 31 days;
   * `GET /v1/analytics/overview?from=<1 year ago>&to=<now>`;
   and prints p50/p99 of each and the endpoint/bare ratio of the p50s.

A measurement, not a test: it exits 0 whatever the figures. It exits 1 when the setup fails,
130 on Ctrl-C. It always stops its servers, drops its PostgreSQL database and removes its temp
dir (`--keep-tmp` keeps the logs and the SQLite file).

Internal modes (used by the above, in subprocesses):
    bench/analytics.py --serve full|bare --port P [--url DB_URL --account-id A]
    bench/analytics.py --load URL --bodies FILE --seconds N --concurrency C
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fastapi import FastAPI, Request  # module level: route annotations resolve here

from common import (
    HOST,
    BenchFailed,
    create_pg_database,
    drop_pg_database,
    free_port,
    run_benchmark,
    stop,
)

HERE = Path(__file__).resolve()
BATCH = 20  # events per POST
BODIES = 256  # prepared bodies the load generator rotates (one viewer and one view each)
VIDEOS = 200
VIDEO_S = 600.0
WARMUP = 5  # untimed requests per query first
BUDGET = "1000000000"  # per minute: every limiter counts, none refuses

# The viewing model behind the generated rollups (bench/README.md).
DAYS = 365
BUCKETS = 100
BUCKET_S = VIDEO_S / BUCKETS
HEARTBEAT_S = 10  # the embed player's heartbeat while playing
FULL_WATCH = 0.06  # share of views played to the end
STOP_MEAN = 7.5  # the others stop after 1 + Exp(mean STOP_MEAN) buckets (6 s each)
RENDITIONS = ("1080p", "720p", "480p", "360p")
RENDITION_WEIGHTS = (25, 45, 20, 10)
# Views per hour of the UTC day: a night low, an evening peak.
DIURNAL = (3, 2, 2, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 7, 7, 7, 8, 9, 10, 11, 11, 10, 8, 5)
COLUMNS = (
    "video_id", "period", "start", "account_id", "views", "unique_viewers", "watch_time_s",
    "completion_sum", "retention", "renditions",
)  # fmt: skip


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def tail(log: Path) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return f"--- {log.name}, last lines ---\n{text[-3000:]}"


# --------------------------------------------------------------------------------------------
# Serving (subprocess)


def build_bare_app(url: str, account_id: str) -> Any:
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from sqlalchemy import insert

    from moviie.analytics.schemas import EventBatch
    from moviie.db.engine import Database
    from moviie.db.models import AnalyticsEvent
    from moviie.db.types import utcnow

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(url)
        try:
            yield
        finally:
            await app.state.db.dispose()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/bare/events", status_code=202)
    async def bare_events(request: Request) -> dict[str, Any]:
        batch = EventBatch.model_validate_json(await request.body())
        now = utcnow()
        rows = [
            {
                "account_id": account_id,
                "video_id": e.video_id,
                "view_id": e.view_id,
                "viewer_id": batch.viewer_id,
                "type": e.type,
                "seq": e.seq,
                "position_s": e.position_s,
                "from_s": e.from_s,
                "rendition": e.rendition,
                "received_at": now,
            }
            for e in batch.events
        ]
        db: Database = request.app.state.db
        async with db.transaction() as session:
            await session.execute(insert(AnalyticsEvent), rows)
        return {"accepted": len(rows), "dropped": {}}

    return app


def serve(kind: str, port: int, url: str | None, account_id: str | None) -> None:
    import uvicorn

    if kind == "full":
        from moviie.app import create_app
        from moviie.config import Settings
        from moviie.log import configure_logging

        settings = Settings()  # MOVIIE_* from the bench: database, data dir, raised limits
        configure_logging(settings.log_format, settings.log_level)  # as `moviie api` does
        app = create_app(settings)
    else:
        if not url or not account_id:
            raise SystemExit("--serve bare needs --url and --account-id")
        app = build_bare_app(url, account_id)
    uvicorn.run(
        app,
        host=HOST,
        port=port,
        workers=1,
        access_log=False,
        log_level="warning",
        log_config=None,
        server_header=False,
    )


# --------------------------------------------------------------------------------------------
# Load generation


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    rows: int = 0  # analytics_events rows the round added

    @property
    def batches_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        text = (
            f"{self.batches_per_s:6.0f} batches/s {self.batches_per_s * BATCH:7.0f} events/s "
            f"p50 {self.p50_ms:6.1f} ms p99 {self.p99_ms:6.1f} ms"
        )
        if self.requests:
            text += f" ({self.rows / self.requests:.1f} rows per batch)"
        if self.errors:
            text += f" ({self.errors} errors!)"
        return text


def load_httpx(url: str, bodies: list[bytes], seconds: float, concurrency: int) -> dict[str, Any]:
    """C keep-alive connections, each POSTing the next prepared body back to back."""
    import httpx

    async def run() -> dict[str, Any]:
        latencies: list[float] = []
        errors = 0
        turn = itertools.cycle(bodies)
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        headers = {"Content-Type": "application/json"}
        async with httpx.AsyncClient(limits=limits, timeout=30.0, headers=headers) as client:
            started = time.perf_counter()
            deadline = started + seconds

            async def worker() -> None:
                nonlocal errors
                while time.perf_counter() < deadline:
                    t0 = time.perf_counter()
                    try:
                        response = await client.post(url, content=next(turn))
                        ok = response.status_code == 202
                    except httpx.HTTPError:
                        ok = False
                    latencies.append(time.perf_counter() - t0)
                    errors += not ok

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
        return {
            "requests": len(latencies),
            "seconds": elapsed,
            "p50_ms": pct(latencies, 0.50) * 1000,
            "p99_ms": pct(latencies, 0.99) * 1000,
            "errors": errors,
        }

    try:
        import uvloop

        return uvloop.run(run())
    except ImportError:
        return asyncio.run(run())


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {%s}
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%.1f, "p99_us": %%.1f, '
      .. '"errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Loader:
    """Runs one load measurement in a separate process (wrk, else the httpx client above)."""

    def __init__(self, force_httpx: bool, bodies: Path, procs: list[subprocess.Popen[Any]]) -> None:
        self.wrk = None if force_httpx else shutil.which("wrk")
        self.name = f"wrk ({self.wrk})" if self.wrk else "httpx (python asyncio, subprocess)"
        self.bodies = bodies
        self.procs = procs
        self.script = bodies.with_suffix(".lua")
        if self.wrk:
            texts = json.loads(bodies.read_text())
            self.script.write_text(WRK_SCRIPT % ",\n".join(lua_string(t) for t in texts))

    def _run(self, argv: list[str], timeout: float) -> str:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(proc)
        try:
            out, err = proc.communicate(timeout=timeout)
        finally:
            stop(proc)
            self.procs.remove(proc)
        if proc.returncode != 0:
            raise BenchFailed(
                f"load generator failed ({proc.returncode}): {err.strip() or out.strip()}"
            )
        return out

    def measure(self, url: str, seconds: float, concurrency: int) -> Result:
        if self.wrk:
            argv = [self.wrk, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s"]
            argv += ["--timeout", "30s", "--latency", "-s", str(self.script), url]
            out = self._run(argv, timeout=seconds + 60)
            line = next((ln for ln in out.splitlines() if ln.startswith("WRKJSON ")), None)
            if line is None:
                raise BenchFailed(f"unexpected wrk output:\n{out}")
            data = json.loads(line[len("WRKJSON ") :])
            return Result(
                data["requests"],
                data["duration_us"] / 1e6,
                data["p50_us"] / 1000,
                data["p99_us"] / 1000,
                data["errors"],
            )
        argv = [sys.executable, str(HERE), "--load", url, "--bodies", str(self.bodies)]
        argv += ["--seconds", str(seconds), "--concurrency", str(concurrency)]
        data = json.loads(self._run(argv, timeout=seconds + 120).strip().splitlines()[-1])
        return Result(
            data["requests"], data["seconds"], data["p50_ms"], data["p99_ms"], data["errors"]
        )


# --------------------------------------------------------------------------------------------
# Setup


@dataclass
class Setup:
    backend: str
    url: str
    env: dict[str, str]
    account_id: str
    private_key: str
    publishable_key: str
    videos: list[str]  # by popularity, most viewed first
    published: list[datetime]
    sync_engine: Any

    @property
    def postgres(self) -> bool:
        return self.backend == "postgresql"


def moviie_cli(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "moviie", *argv], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BenchFailed(
            f"moviie {' '.join(argv)} failed ({done.returncode}):\n{done.stderr}{done.stdout}"
        )
    return done.stdout


def prepare(backend: str, url: str, data_dir: Path, now: datetime, rng: random.Random) -> Setup:
    """Migrate, one account, VIDEOS ready videos published over the last 450 days (the most
    viewed one 450 days ago, so its series fills the whole year)."""
    from sqlalchemy import insert

    from moviie.db.engine import create_sync_db_engine
    from moviie.db.models import Video
    from moviie.ids import new_id

    env = {
        **os.environ,
        "MOVIIE_DATABASE_URL": url,
        "MOVIIE_DATA_DIR": str(data_dir),
        "MOVIIE_LOG_LEVEL": "WARNING",
        "MOVIIE_RATE_LIMIT_PER_MINUTE": BUDGET,
        "MOVIIE_ANALYTICS_EVENTS_PER_MINUTE": BUDGET,
        "MOVIIE_ANALYTICS_VIEWER_BATCHES_PER_MINUTE": BUDGET,
    }
    moviie_cli(env, "migrate")
    created = json.loads(
        moviie_cli(
            env, "accounts", "create", "--email", "bench@example.test", "--name", "Bench", "--json"
        )
    )
    account_id = created["account"]["id"]
    published = [now - timedelta(days=450)]
    published += [now - timedelta(days=rng.uniform(1, 450)) for _ in range(VIDEOS - 1)]
    ids = [new_id("vid") for _ in range(VIDEOS)]
    rows = [
        {
            "id": video_id,
            "account_id": account_id,
            "title": f"Bench video {i}",
            "status": "ready",
            "privacy": "public",
            "duration_s": VIDEO_S,
            "width": 1280,
            "height": 720,
            "has_audio": True,
            "meta": {},
            "tags": [],
            "created_at": when,
            "updated_at": when,
            "ready_at": when,
        }
        for i, (video_id, when) in enumerate(zip(ids, published, strict=True))
    ]
    engine = create_sync_db_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Video), rows)
    return Setup(
        backend,
        url,
        env,
        account_id,
        created["private_key"],
        created["publishable_key"],
        ids,
        published,
        engine,
    )


def write_bodies(setup: Setup, path: Path, rng: random.Random) -> list[bytes]:
    """BODIES batches of BATCH heartbeats 10 s apart, each a new viewer and view of a video."""
    bodies = []
    for i in range(BODIES):
        video_id = setup.videos[i % VIDEOS]
        view_id = f"vv_{rng.getrandbits(64):016x}"
        events = [
            {
                "type": "heartbeat",
                "video_id": video_id,
                "view_id": view_id,
                "seq": seq,
                "position_s": float(seq * HEARTBEAT_S),
                "rendition": "720p",
            }
            for seq in range(1, BATCH + 1)
        ]
        batch = {
            "key": setup.publishable_key,
            "viewer_id": f"vw_{rng.getrandbits(48):012x}",
            "events": events,
        }
        bodies.append(json.dumps(batch, separators=(",", ":")))
    path.write_text(json.dumps(bodies))
    return [b.encode() for b in bodies]


def start_server(
    setup: Setup, kind: str, log: Path, procs: list[subprocess.Popen[Any]]
) -> tuple[subprocess.Popen[Any], str]:
    import httpx

    port = free_port()
    argv = [sys.executable, str(HERE), "--serve", kind, "--port", str(port)]
    argv += ["--url", setup.url, "--account-id", setup.account_id]
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, env=setup.env, stdout=out, stderr=subprocess.STDOUT)
    procs.append(proc)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchFailed(f"{kind} server exited ({proc.returncode})\n{tail(log)}")
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise BenchFailed(f"{kind} server not ready after 60 s\n{tail(log)}")


def check_intake(url: str, body: bytes, log: Path) -> None:
    """One batch must be taken whole, or the load would measure refusals."""
    import httpx

    headers = {"Content-Type": "application/json"}
    response = httpx.post(url, content=body, headers=headers, timeout=30)
    if response.status_code != 202 or response.json().get("accepted") != BATCH:
        raise BenchFailed(f"{url} answered {response.status_code} {response.text}\n{tail(log)}")


def count_events(setup: Setup) -> int:
    from sqlalchemy import func, select

    from moviie.db.models import AnalyticsEvent

    with setup.sync_engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AnalyticsEvent)).scalar_one())


# --------------------------------------------------------------------------------------------
# 1. Ingest


def ingest_phase(
    args: argparse.Namespace, setup: Setup, loader: Loader, targets: dict[str, str]
) -> tuple[Result, Result]:
    for kind in ("full", "bare"):
        loader.measure(targets[kind], min(2.0, args.seconds), args.concurrency)
    rounds: dict[str, list[Result]] = {"full": [], "bare": []}
    for i in range(args.rounds):
        for kind in ("full", "bare"):
            before = count_events(setup)
            result = loader.measure(targets[kind], args.seconds, args.concurrency)
            result.rows = count_events(setup) - before
            rounds[kind].append(result)
            print(f"  {setup.backend:<10} round {i + 1} {kind}: {result.line()}", flush=True)
    full = max(rounds["full"], key=lambda r: r.batches_per_s)
    bare = max(rounds["bare"], key=lambda r: r.batches_per_s)
    return full, bare


# --------------------------------------------------------------------------------------------
# 2. A year of rollups


def events_of(buckets: int) -> int:
    """A view that saw `buckets` buckets from the start: view_start, a heartbeat every 10 s of
    play, view_end."""
    return 2 + int(buckets * BUCKET_S) // HEARTBEAT_S


def draw_stops(rng: random.Random, events: int) -> list[int]:
    """Buckets seen by each view (1..100), until the views add up to `events` player events."""
    stops: list[int] = []
    total = 0
    while total < events:
        if rng.random() < FULL_WATCH:
            stop_at = BUCKETS
        else:
            stop_at = min(BUCKETS - 1, 1 + int(rng.expovariate(1 / STOP_MEAN)))
        stops.append(stop_at)
        total += events_of(stop_at)
    return stops


def figures(views: list[tuple[int, int]], unique: int) -> tuple[Any, ...]:
    """The rollup figures of `views` [(buckets seen, rendition)], as the rollup job sums them
    from viewings that each played the video from 0 to where they stopped."""
    seen = [0] * (BUCKETS + 1)  # views by buckets seen
    by_rendition = [0] * len(RENDITIONS)  # buckets played per rendition
    for stop_at, rendition in views:
        seen[stop_at] += 1
        by_rendition[rendition] += stop_at
    # retention[i]: the views that saw bucket i, i.e. that saw more than i buckets
    retention = list(itertools.accumulate(seen[BUCKETS:0:-1]))[::-1]
    buckets = sum(by_rendition)
    renditions = {
        name: round(n * BUCKET_S, 3) for name, n in zip(RENDITIONS, by_rendition, strict=True) if n
    }
    return (
        len(views),
        unique,
        round(buckets * BUCKET_S, 3),
        round(buckets / BUCKETS, 4),
        retention,
        renditions,
    )


@dataclass
class Year:
    """What the generated rollups stand for."""

    events: int = 0
    views: int = 0
    hour_rows: int = 0
    day_rows: int = 0
    top_views: int = 0  # of the most viewed video


def rollup_rows(
    setup: Setup, now: datetime, rng: random.Random, events: int, year: Year
) -> Iterator[list[tuple[Any, ...]]]:
    """The hour and day rows of each video in turn (see bench/README.md)."""
    stops = draw_stops(rng, events)
    year.views, year.events = len(stops), sum(events_of(s) for s in stops)
    first_hour = now - timedelta(days=DAYS)
    hours = DAYS * 24
    # Zipf popularity: the video of rank k gets a share 1/(k+1) of the views.
    weights = [1 / (k + 1) for k in range(VIDEOS)]
    counts = [int(len(stops) * w / sum(weights)) for w in weights]
    counts[0] += len(stops) - sum(counts)
    year.top_views = counts[0]
    rendition_cum = list(itertools.accumulate(RENDITION_WEIGHTS))
    offset = 0
    for video_id, published, count in zip(setup.videos, setup.published, counts, strict=True):
        # Views per hour: none before the video was published, a launch peak that fades
        # over weeks to a steady tail, times the hour of the day's weight.
        hour_weights = []
        for h in range(hours):
            at = first_hour + timedelta(hours=h)
            age_days = (at - published).total_seconds() / 86400
            hour_weights.append(
                0.0 if age_days < 0 else (0.15 + math.exp(-age_days / 20)) * DIURNAL[at.hour]
            )
        when = rng.choices(
            range(hours), cum_weights=list(itertools.accumulate(hour_weights)), k=count
        )
        rendition = rng.choices(range(len(RENDITIONS)), cum_weights=rendition_cum, k=count)
        by_hour: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for h, stop_at, r in zip(when, stops[offset : offset + count], rendition, strict=True):
            by_hour[h].append((stop_at, r))
        offset += count

        rows: list[tuple[Any, ...]] = []
        by_day: dict[datetime, list[tuple[int, int]]] = defaultdict(list)
        best_hour: dict[datetime, int] = defaultdict(int)
        for h in sorted(by_hour):
            views = by_hour[h]
            start = first_hour + timedelta(hours=h)
            day = start.replace(hour=0)
            unique = len(views) - len(views) // 10  # a tenth come back within the hour
            best_hour[day] = max(best_hour[day], unique)
            by_day[day] += views
            rows.append((video_id, "hour", start, setup.account_id, *figures(views, unique)))
        for day, views in by_day.items():
            # a fifth come back within the day; never fewer than the day's busiest hour
            unique = max(best_hour[day], len(views) - len(views) // 5)
            rows.append((video_id, "day", day, setup.account_id, *figures(views, unique)))
        year.hour_rows += len(by_hour)
        year.day_rows += len(by_day)
        yield rows


def insert_rollups(setup: Setup, chunks: Iterator[list[tuple[Any, ...]]]) -> None:
    """All rows in one transaction: COPY on PostgreSQL, executemany on SQLite."""
    from sqlalchemy import insert, text

    from moviie.db.models import AnalyticsRollup

    with setup.sync_engine.begin() as conn:
        if setup.postgres:
            raw = conn.connection.driver_connection
            copy_sql = f"COPY analytics_rollups ({', '.join(COLUMNS)}) FROM STDIN"
            with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for rows in chunks:
                    for row in rows:
                        copy.write_row((*row[:-2], json.dumps(row[-2]), json.dumps(row[-1])))
        else:
            table = AnalyticsRollup.__table__
            for rows in chunks:
                conn.execute(insert(table), [dict(zip(COLUMNS, row, strict=True)) for row in rows])
    with setup.sync_engine.connect() as conn:
        if setup.postgres:
            # What autovacuum does after a large insert: statistics and the visibility map.
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE analytics_rollups")
            )
        else:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# --------------------------------------------------------------------------------------------
# 3. Queries


@dataclass
class Query:
    name: str
    path: str
    params: dict[str, str]
    statements: list[Any]  # the bare SELECTs
    http_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    points: int = 0
    response_bytes: int = 0

    @property
    def ratio(self) -> float:
        return pct(self.http_ms, 0.5) / pct(self.bare_ms, 0.5)

    def line(self) -> str:
        http50, http99 = pct(self.http_ms, 0.5), pct(self.http_ms, 0.99)
        bare50, bare99 = pct(self.bare_ms, 0.5), pct(self.bare_ms, 0.99)
        return (
            f"endpoint p50 {http50:7.2f} ms p99 {http99:7.2f} ms | bare SELECT p50 "
            f"{bare50:7.2f} ms p99 {bare99:7.2f} ms | ratio p50 {self.ratio:5.1f}"
        )


def queries(setup: Setup, now: datetime) -> list[Query]:
    from sqlalchemy import func, select

    from moviie.analytics.rollup import period_start
    from moviie.db.models import AnalyticsRollup, Video

    r = AnalyticsRollup
    video_id = setup.videos[0]
    year_ago, month_ago = now - timedelta(days=DAYS), now - timedelta(days=31)

    def series(period: str, start: datetime) -> Any:
        """The WHERE and ORDER BY of repository.rollups, all columns, as Core rows."""
        first = period_start(start, period)
        return (
            select(*r.__table__.c)
            .where(r.video_id == video_id, r.period == period, r.start >= first, r.start < now)
            .order_by(r.start)
        )

    first_day = period_start(year_ago, "day")
    in_range = (
        r.account_id == setup.account_id,
        r.period == "day",
        r.start >= first_day,
        r.start < now,
    )
    sums = (
        func.coalesce(func.sum(r.views), 0),
        func.coalesce(func.sum(r.unique_viewers), 0),
        func.coalesce(func.sum(r.watch_time_s), 0.0),
        func.coalesce(func.sum(r.completion_sum), 0.0),
    )
    # repository.account_totals and repository.top_videos
    totals = select(*sums).where(*in_range)
    top = (
        select(r.video_id, Video.title, *sums)
        .join(Video, Video.id == r.video_id)
        .where(*in_range)
        .group_by(r.video_id, Video.title)
        .order_by(func.sum(r.views).desc(), r.video_id)
        .limit(10)
    )
    year = {"from": year_ago.isoformat(), "to": now.isoformat()}
    month = {"from": month_ago.isoformat(), "to": now.isoformat()}
    return [
        Query(
            "video, interval=day, 1 year",
            f"/v1/analytics/videos/{video_id}",
            {**year, "interval": "day"},
            [series("day", year_ago)],
        ),
        Query(
            "video, interval=hour, 31 days",
            f"/v1/analytics/videos/{video_id}",
            {**month, "interval": "hour"},
            [series("hour", month_ago)],
        ),
        Query("overview, 1 year", "/v1/analytics/overview", year, [totals, top]),
    ]


async def time_queries(
    setup: Setup, base: str, cases: list[Query], requests: int, warmup: int
) -> None:
    """Each case `warmup + requests` times, the HTTP request then the bare SELECT(s), in turn."""
    import httpx

    from moviie.db.engine import Database

    db = Database(setup.url)
    headers = {"Authorization": f"Bearer {setup.private_key}"}
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
            for case in cases:
                for i in range(warmup + requests):
                    t0 = time.perf_counter()
                    response = await client.get(case.path, params=case.params)
                    t1 = time.perf_counter()
                    async with db.transaction(write=False) as session:
                        found = [(await session.execute(s)).all() for s in case.statements]
                    t2 = time.perf_counter()
                    if response.status_code != 200:
                        raise BenchFailed(
                            f"GET {case.path} answered {response.status_code} {response.text}"
                        )
                    if i == 0:
                        check(case, response.json(), found)
                        case.response_bytes = len(response.content)
                    if i >= warmup:
                        case.http_ms.append((t1 - t0) * 1000)
                        case.bare_ms.append((t2 - t1) * 1000)
    finally:
        await db.dispose()


def check(case: Query, body: dict[str, Any], found: list[list[Any]]) -> None:
    """The endpoint and the bare SELECT must have read the same rows."""
    if "series" in body:
        case.points = len(body["series"])
        bare_views = sum(row.views for row in found[0])
        what = f"{len(found[0])} rows"
    else:
        case.points = len(body["top_videos"])
        bare_views = int(found[0][0][0])
        what = f"{len(found[1])} top videos"
    if body["totals"]["views"] != bare_views or not bare_views:
        raise BenchFailed(
            f"{case.name}: the endpoint counts {body['totals']['views']} views, the bare "
            f"SELECT {bare_views} ({what})"
        )


# --------------------------------------------------------------------------------------------
# Orchestration


def run_backend(
    backend: str,
    args: argparse.Namespace,
    tmp: Path,
    procs: list[subprocess.Popen[Any]],
) -> list[float]:
    """The ratios: ingest full/bare throughput, then endpoint/bare p50 of each query."""
    data_dir = tmp / f"data-{backend}"
    data_dir.mkdir()
    url = (
        f"sqlite:///{(data_dir / 'moviie.db').resolve()}"
        if backend == "sqlite"
        else create_pg_database()
    )
    rng = random.Random(args.seed)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    started: list[subprocess.Popen[Any]] = []
    setup: Setup | None = None
    try:
        setup = prepare(backend, url, data_dir, now, rng)
        bodies = write_bodies(setup, tmp / f"bodies-{backend}.json", rng)
        loader = Loader(args.httpx, tmp / f"bodies-{backend}.json", procs)
        bases: dict[str, str] = {}
        targets: dict[str, str] = {}
        for kind, path in (("full", "/v1/analytics/events"), ("bare", "/bare/events")):
            log = tmp / f"{backend}-{kind}.log"
            proc, bases[kind] = start_server(setup, kind, log, procs)
            started.append(proc)
            targets[kind] = bases[kind] + path
            check_intake(targets[kind], bodies[0], log)
        print(
            f"{backend}: ingest, POST batches of {BATCH} heartbeats, {BODIES} bodies rotated "
            f"(each a viewer and a view; {VIDEOS} videos); load: {loader.name}, "
            f"{args.concurrency} connections, {args.seconds:g} s x {args.rounds} alternating "
            "rounds after a warm-up, best kept",
            flush=True,
        )
        full, bare = ingest_phase(args, setup, loader, targets)
        ingest_ratio = full.batches_per_s / bare.batches_per_s if bare.batches_per_s else 0.0
        print(
            f"{backend:<10} ingest full /v1/analytics/events: {full.line()}\n"
            f"{'':<10}        bare /bare/events:         {bare.line()}\n"
            f"{'':<10}        ratio full/bare (throughput) {ingest_ratio:.2f}",
            flush=True,
        )

        year = Year()
        t0 = time.perf_counter()
        insert_rollups(setup, rollup_rows(setup, now, rng, args.events, year))
        print(
            f"{backend:<10} rollups: {year.events:,} events = {year.views:,} views "
            f"({year.events / max(1, year.views):.1f} events per view) over {VIDEOS} videos and "
            f"{DAYS} days -> {year.hour_rows:,} hour rows + {year.day_rows:,} day rows, "
            f"written in {time.perf_counter() - t0:.1f} s; the queried video has "
            f"{year.top_views:,} views",
            flush=True,
        )

        cases = queries(setup, now)
        asyncio.run(time_queries(setup, bases["full"], cases, args.requests, WARMUP))
        for case in cases:
            print(
                f"{backend:<10} {case.name:<31} {case.line()}  "
                f"({case.points} points, {case.response_bytes:,} bytes)",
                flush=True,
            )
        return [ingest_ratio, *(case.ratio for case in cases)]
    finally:
        for proc in started:
            stop(proc)
            if proc in procs:
                procs.remove(proc)
        if setup is not None:
            setup.sync_engine.dispose()
        if backend == "postgresql":
            drop_pg_database(url)


def run(args: argparse.Namespace, tmp: Path, procs: list[subprocess.Popen[Any]]) -> int:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(
        f"analytics bench: {', '.join(backends)}; {os.cpu_count()} CPUs; uvicorn, 1 worker per "
        f"app; {args.events:,} events of rollups; {args.requests} timed requests per query "
        f"(after {WARMUP} warm-ups), each followed by its bare SELECT",
        flush=True,
    )
    if args.httpx or not shutil.which("wrk"):
        print(
            "note: the httpx generator (no wrk, or --httpx) loads the servers; on a small "
            "machine it shares the CPUs and can cap the bare app's rate (install wrk).",
            flush=True,
        )
    ratios = {backend: run_backend(backend, args, tmp, procs) for backend in backends}
    heads = ("ingest", "video day 1y", "video hour 31d", "overview 1y")
    print("\nratios: ingest full/bare throughput; each query endpoint/bare SELECT p50")
    print(f"{'':<10} " + " ".join(f"{h:>14}" for h in heads))
    for backend, values in ratios.items():
        print(f"{backend:<10} " + " ".join(f"{v:>14.2f}" for v in values))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of one ingest round")
    parser.add_argument(
        "--events", type=int, default=10_000_000, help="player events the rollups stand for"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="ingest connections")
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating ingest rounds per app (best kept)"
    )
    parser.add_argument("--requests", type=int, default=50, help="timed requests per query")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated data")
    parser.add_argument(
        "--httpx", action="store_true", help="use the httpx load generator even if wrk exists"
    )
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temp dir")
    # internal modes
    parser.add_argument("--serve", choices=["full", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--account-id", help=argparse.SUPPRESS)
    parser.add_argument("--load", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--bodies", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        serve(args.serve, args.port, args.url, args.account_id)
        return 0
    if args.load:
        bodies = [b.encode() for b in json.loads(Path(args.bodies).read_text())]
        print(json.dumps(load_httpx(args.load, bodies, args.seconds, args.concurrency)))
        return 0
    if min(args.events, args.concurrency, args.rounds, args.requests) < 1 or args.seconds <= 0:
        parser.error("--events, --concurrency, --rounds, --requests and --seconds must be > 0")

    return run_benchmark(
        "moviie-bench-analytics-",
        lambda tmp, procs: run(args, tmp, procs),
        keep_tmp=args.keep_tmp,
    )


if __name__ == "__main__":
    sys.exit(main())
