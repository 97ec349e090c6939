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
import secrets
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fastapi import Request  # module level: route annotations resolve here

from common import (
    BenchFailed,
    Children,
    bench_parser,
    fresh_database,
    log_tail,
    migrated_account,
    moviie_env,
    pct,
    run_benchmark,
    serve_app,
    stop_child,
)
from load import Loader, LoadResult, best_alternating, httpx_load, lua_string, serve_in_child

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


# --------------------------------------------------------------------------------------------
# Serving (subprocess)


def build_bare_app(url: str, account_id: str) -> Any:
    from sqlalchemy import insert

    from common import bare_fastapi
    from moviie.analytics.schemas import EventBatch
    from moviie.db.engine import Database
    from moviie.db.models import AnalyticsEvent
    from moviie.db.types import utcnow

    app = bare_fastapi(url)

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
    serve_app(app, port)


# --------------------------------------------------------------------------------------------
# Load generation


@dataclass
class Ingest:
    """One ingest round: the load's figures and the analytics_events rows it added."""

    load: LoadResult
    rows: int = 0

    @property
    def per_s(self) -> float:  # batches
        return self.load.per_s

    def line(self) -> str:
        load = self.load
        text = (
            f"{self.per_s:6.0f} batches/s {self.per_s * BATCH:7.0f} events/s "
            f"p50 {load.p50_ms:6.1f} ms p99 {load.p99_ms:6.1f} ms"
        )
        if load.requests:
            text += f" ({self.rows / load.requests:.1f} rows per batch)"
        if load.errors:
            text += f" ({load.errors} errors!)"
        return text


# Every view id in a prepared body ends with this placeholder, which the load generator turns
# into a number of its own per request: events are unique per (video, view, seq), so a body sent
# twice would be skipped as a duplicate by both apps, and the bench would time no inserts.
UNIQUE = "R" * 16


def load_post(url: str, bodies: list[bytes], seconds: float, concurrency: int) -> dict[str, Any]:
    """The `--load` child: each connection POSTs the next prepared body back to back, each
    with view ids never sent before."""
    turn = itertools.cycle(bodies)
    run = secrets.randbits(32)
    sent = itertools.count()
    placeholder = UNIQUE.encode()

    async def post(client: Any) -> bool:
        body = next(turn).replace(placeholder, f"{run:08x}{next(sent):08x}".encode())
        return bool((await client.post(url, content=body)).status_code == 202)

    return httpx_load(seconds, concurrency, {"Content-Type": "application/json"}, post)


# wrk's requests: the prepared bodies in turn, with view ids of their own (see UNIQUE).
WRK_BODIES = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {%(bodies)s}
local i = 0
local run = 0
init = function(args)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%%x+)") or "0", 16) %% 1000003))
  run = math.random(0, 2147483647)
end
request = function()
  i = i + 1
  local unique = string.format("%%08x%%08x", run, i)
  local body = bodies[(i - 1) %% #bodies + 1]:gsub(%(unique)s, unique)
  return wrk.format(nil, nil, nil, body)
end
"""


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


def prepare(backend: str, url: str, data_dir: Path, now: datetime, rng: random.Random) -> Setup:
    """Migrate, one account, VIDEOS ready videos published over the last 450 days (the most
    viewed one 450 days ago, so its series fills the whole year)."""
    from sqlalchemy import insert

    from moviie.db.engine import create_sync_db_engine
    from moviie.db.models import Video
    from moviie.ids import new_id

    budgets = (
        "MOVIIE_RATE_LIMIT_PER_MINUTE",
        "MOVIIE_ANALYTICS_EVENTS_PER_MINUTE",
        "MOVIIE_ANALYTICS_VIEWER_BATCHES_PER_MINUTE",
    )
    env = moviie_env(url, data_dir, dict.fromkeys(budgets, BUDGET))
    created = migrated_account(env)
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


def write_bodies(setup: Setup, path: Path, rng: random.Random) -> list[str]:
    """BODIES batches of BATCH heartbeats 10 s apart, each a new viewer and view of a video."""
    bodies = []
    for i in range(BODIES):
        video_id = setup.videos[i % VIDEOS]
        view_id = f"vv_{rng.getrandbits(64):016x}{UNIQUE}"
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
    return bodies


def check_intake(url: str, body: bytes, log: Path) -> None:
    """One batch must be taken whole, or the load would measure refusals."""
    import httpx

    headers = {"Content-Type": "application/json"}
    unique = body.replace(UNIQUE.encode(), secrets.token_hex(8).encode())  # a view of its own
    response = httpx.post(url, content=unique, headers=headers, timeout=30)
    if response.status_code != 202 or response.json().get("accepted") != BATCH:
        raise BenchFailed(f"{url} answered {response.status_code} {response.text}\n{log_tail(log)}")


def count_events(setup: Setup) -> int:
    from sqlalchemy import func, select

    from moviie.db.models import AnalyticsEvent

    with setup.sync_engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AnalyticsEvent)).scalar_one())


# --------------------------------------------------------------------------------------------
# 1. Ingest


def ingest_phase(
    args: argparse.Namespace,
    setup: Setup,
    loader: Loader,
    targets: dict[str, str],
    bodies: list[str],
    bodies_file: Path,
) -> tuple[Ingest, Ingest]:
    lua = WRK_BODIES % {
        "bodies": ",\n".join(lua_string(body) for body in bodies),
        "unique": lua_string(UNIQUE),
    }

    def one(kind: str, seconds: float) -> Ingest:
        before = count_events(setup)
        load = loader.measure(
            targets[kind], seconds, args.concurrency, lua, ["--bodies", str(bodies_file)]
        )
        return Ingest(load, count_events(setup) - before)

    return best_alternating(one, args.seconds, args.rounds, setup.backend, Ingest.line)


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
    backend: str, args: argparse.Namespace, tmp: Path, children: Children
) -> list[float]:
    """The ratios: ingest full/bare throughput, then endpoint/bare p50 of each query."""
    data_dir = tmp / f"data-{backend}"
    data_dir.mkdir()
    with fresh_database(backend, data_dir / "moviie.db") as url:
        return measure_backend(backend, url, data_dir, args, tmp, children)


def measure_backend(
    backend: str,
    url: str,
    data_dir: Path,
    args: argparse.Namespace,
    tmp: Path,
    children: Children,
) -> list[float]:
    rng = random.Random(args.seed)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    started: Children = []
    setup: Setup | None = None
    try:
        setup = prepare(backend, url, data_dir, now, rng)
        bodies_file = tmp / f"bodies-{backend}.json"
        bodies = write_bodies(setup, bodies_file, rng)
        loader = Loader(args.httpx, HERE, tmp, children)
        bases: dict[str, str] = {}
        targets: dict[str, str] = {}
        for kind, path in (("full", "/v1/analytics/events"), ("bare", "/bare/events")):
            log = tmp / f"{backend}-{kind}.log"
            options = ["--url", setup.url, "--account-id", setup.account_id]
            proc, bases[kind], _ = serve_in_child(
                HERE, kind, options, "/healthz", log, children, setup.env
            )
            started.append(proc)
            targets[kind] = bases[kind] + path
            check_intake(targets[kind], bodies[0].encode(), log)
        print(
            f"{backend}: ingest, POST batches of {BATCH} heartbeats, {BODIES} bodies rotated "
            f"(each a viewer and a view; {VIDEOS} videos); load: {loader.name}, "
            f"{args.concurrency} connections, {args.seconds:g} s x {args.rounds} alternating "
            "rounds after a warm-up, best kept",
            flush=True,
        )
        full, bare = ingest_phase(args, setup, loader, targets, bodies, bodies_file)
        ingest_ratio = full.per_s / bare.per_s if bare.per_s else 0.0
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
        for proc in started:  # before the database is dropped: they hold connections
            stop_child(proc, children)
        if setup is not None:
            setup.sync_engine.dispose()


def run(args: argparse.Namespace, tmp: Path, children: Children) -> int:
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
    ratios = {backend: run_backend(backend, args, tmp, children) for backend in backends}
    heads = ("ingest", "video day 1y", "video hour 31d", "overview 1y")
    print("\nratios: ingest full/bare throughput; each query endpoint/bare SELECT p50")
    print(f"{'':<10} " + " ".join(f"{h:>14}" for h in heads))
    for backend, values in ratios.items():
        print(f"{backend:<10} " + " ".join(f"{v:>14.2f}" for v in values))
    return 0


def main() -> int:
    parser = bench_parser(__doc__)
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
        print(json.dumps(load_post(args.load, bodies, args.seconds, args.concurrency)))
        return 0
    if min(args.events, args.concurrency, args.rounds, args.requests) < 1 or args.seconds <= 0:
        parser.error("--events, --concurrency, --rounds, --requests and --seconds must be > 0")

    return run_benchmark("moviie-bench-analytics-", partial(run, args), keep_tmp=args.keep_tmp)


if __name__ == "__main__":
    sys.exit(main())
