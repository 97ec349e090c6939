"""Webhook delivery through one `moviie worker` next to a bare httpx loop posting the same signed
payloads to the same local receiver.

    .venv/bin/python bench/webhooks.py [--database sqlite|postgresql] [--events 5000]
                                       [--endpoints 4] [--poll 0.02] [--rate 10]

It creates a fresh database (a SQLite file in a temp data dir, or a new PostgreSQL database on
`MOVIIE_BENCH_PG_URL`, as bench/api.py does), runs `python -m moviie migrate`, and creates
`--endpoints` accounts with one endpoint each (`create_endpoint`, `events: ["*"]`), all on one
receiver. Events are emitted with `moviie.events.service.emit_event` (type `video.updated`, a
small `data` dict) round-robin over the accounts, so each event makes exactly one delivery (a
`webhook_deliveries` row, due at once) and the deliveries spread over the endpoints.

The worker is `python -m moviie worker --queues webhooks`; its dispatcher
(moviie/webhooks/dispatcher.py) leases due deliveries, POSTs them on one client and records the
outcomes in `webhook_attempts`, one transaction per turn recording what finished and leasing
more. It has at most `MOVIIE_WEBHOOK_CONCURRENCY` (32) POSTs in flight and
`MOVIIE_WEBHOOK_ENDPOINT_CONCURRENCY` (4) per endpoint, so `--endpoints` sets how many can be in
flight; the run prints that cap. Events emitted by another process (the bench) do not wake it:
it finds them on its next poll, every `MOVIIE_WEBHOOK_POLLING_INTERVAL_S` = `--poll` (Moviie's
default is 0.1 s). It runs with `MOVIIE_WEBHOOKS_ALLOW_PRIVATE=true` and log level WARNING.

The receiver is a minimal ASGI app under uvicorn (uvloop and httptools when importable) in its
own process, on a free 127.0.0.1 port. It answers 200 at once and records, for each POST, the
`webhook-id` header (the event id), `X-Moviie-Delivery` and `time.time()` on arrival.

1. latency: one worker runs. After 20 warm-up events and 2 s idle (its CPU is sampled), the
   bench emits `--latency-events` (200) events at `--rate` (10/s), one per transaction. The
   latency is the receiver's arrival time minus the event's `created_at` (set by `emit_event`
   before the commit), p50 and p99; the target is p50 < 100 ms. The rate stays below what one
   worker delivers, so this is the dispatcher's latency and not a backlog's (a warning is
   printed when the worker falls behind). Moviie's own records split it into spans:
   `events.created_at` -> the bench's commit, `events.created_at` -> attempt 1's `started_at`
   in `webhook_attempts` (commit, poll, lease, sign), that -> arrival at the receiver, and the
   attempt's `duration_ms` (the POST until its answer).
2. throughput: with no worker running, `--events` (5000) events are emitted, `--batch` (200)
   per transaction. Then:
   * bare: a subprocess runs one `httpx.AsyncClient` on plain asyncio (as the worker runs) with
     `--bare-concurrency` coroutines (default: as many as the worker can have in flight). For
     each pending delivery it builds the body with `moviie.webhooks.sender.payload`, the headers
     with `base_headers`, `moviie.webhooks.signing.signature_headers` (the endpoint's secret)
     and the delivery's `X-Moviie-*` headers, in the loop, and POSTs it to the same receiver;
   * moviie: one worker starts, and the bench waits until the receiver has every event.
   Both rates are (n - 1) / (first -> last arrival at the receiver), so the worker's start-up
   is left out; it is shown on its own. The run prints deliveries/s, the ratio moviie/bare
   (target >= 0.5), CPU per delivery of the worker, the bare loop and the receiver (and of the
   local PostgreSQL server, with its transactions and rows per delivery from
   `pg_stat_database`), and, from `webhook_attempts`, the attempts recorded, how many
   succeeded, their `duration_ms` and the mean POSTs in flight.

`--py-spy DIR` records the worker of the throughput run with py-spy (raw stacks into DIR) and
prints its threads, the hottest Moviie functions and leaf frames.

A measurement, not a test: it exits 0 whatever the figures. It exits 1 when the setup fails or a
process dies, and 130 on Ctrl-C. It always stops the receiver and the worker, removes its temp
dir (`--keep-tmp` keeps it) and drops its PostgreSQL database.

Internal modes (used by the above, in subprocesses):
    bench/webhooks.py --receive PORT
    bench/webhooks.py --bare SPEC.json --bare-concurrency C
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    HOST,
    BenchFailed,
    Children,
    bench_parser,
    cpu_seconds,
    free_port,
    fresh_database,
    log_tail,
    moviie_cli,
    moviie_env,
    pct,
    py_spy_samples,
    run_benchmark,
    spawn_logged,
    start_py_spy,
    stop,
    stop_child,
    wait_http_ok,
)

LATENCY_TARGET_MS = 100.0  # p50, event emitted -> first attempt received
THROUGHPUT_TARGET = 0.5  # moviie deliveries/s over the bare loop's
EVENT_TYPE = "video.updated"
WARMUP_EVENTS = 20
IDLE_S = 2.0  # the idle worker's CPU is sampled this long
HERE = Path(__file__).resolve()


# --------------------------------------------------------------------------------------------
# Receiver (subprocess)


def receiver_app() -> Any:
    """POST /hook records (webhook-id, x-moviie-delivery, arrival) and answers 200 at once;
    GET /stats, GET /dump and POST /reset let the bench read and clear the record."""
    seen: list[tuple[str, str, float]] = []

    async def respond(send: Any, status: int, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        arrived = time.time()
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        method, path = scope["method"], scope["path"]
        if method == "POST" and path == "/hook":
            event_id = delivery_id = ""
            for name, value in scope["headers"]:
                if name == b"webhook-id":
                    event_id = value.decode()
                elif name == b"x-moviie-delivery":
                    delivery_id = value.decode()
            seen.append((event_id, delivery_id, arrived))
            await respond(send, 200, b'{"ok":true}')
        elif method == "GET" and path == "/stats":
            unique = len({event_id for event_id, _, _ in seen})
            await respond(send, 200, json.dumps({"count": len(seen), "unique": unique}).encode())
        elif method == "GET" and path == "/dump":
            await respond(send, 200, json.dumps(seen).encode())
        elif method == "POST" and path == "/reset":
            seen.clear()
            await respond(send, 200, b"{}")
        else:
            await respond(send, 404, b"{}")

    return app


def serve_receiver(port: int) -> None:
    import uvicorn

    options: dict[str, Any] = {}
    try:
        import uvloop  # noqa: F401

        options["loop"] = "uvloop"
    except ImportError:
        options["loop"] = "asyncio"
    try:
        import httptools  # noqa: F401

        options["http"] = "httptools"
    except ImportError:
        options["http"] = "h11"
    uvicorn.run(
        receiver_app(),
        host=HOST,
        port=port,
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        **options,
    )


@dataclass
class Receiver:
    proc: subprocess.Popen[Any]
    base: str
    log: Path

    @property
    def hook_url(self) -> str:
        return f"{self.base}/hook"

    def _get(self, path: str) -> Any:
        import httpx

        if self.proc.poll() is not None:
            raise BenchFailed(f"receiver exited ({self.proc.returncode})\n{log_tail(self.log)}")
        response = httpx.get(f"{self.base}{path}", timeout=30)
        response.raise_for_status()
        return response.json()

    def unique(self) -> int:
        return int(self._get("/stats")["unique"])

    def dump(self) -> list[tuple[str, str, float]]:
        return [(e, d, float(t)) for e, d, t in self._get("/dump")]

    def reset(self) -> None:
        import httpx

        httpx.post(f"{self.base}/reset", timeout=30).raise_for_status()


def start_receiver(tmp: Path, children: Children) -> Receiver:
    port = free_port()
    log = tmp / "receiver.log"
    proc = spawn_logged([sys.executable, str(HERE), "--receive", str(port)], log, children)
    receiver = Receiver(proc, f"http://{HOST}:{port}", log)
    wait_http_ok(proc, f"{receiver.base}/stats", "receiver", log, timeout=30)
    return receiver


# --------------------------------------------------------------------------------------------
# The bare loop (subprocess)


def bare_post(spec_path: str, concurrency: int) -> dict[str, Any]:
    """POST every item of the spec (event, endpoint secret, delivery id), body and signature
    built in the loop, with `concurrency` coroutines on one client, as fast as they go."""
    import httpx

    from moviie.db.models import Event
    from moviie.webhooks.sender import base_headers, payload
    from moviie.webhooks.signing import signature_headers

    spec = json.loads(Path(spec_path).read_text())
    items = [
        (
            item["url"],
            item["secret"],
            item["delivery_id"],
            Event(
                id=item["id"],
                account_id=item["account_id"],
                type=item["type"],
                data=item["data"],
                created_at=datetime.fromisoformat(item["created_at"]),
            ),
        )
        for item in spec
    ]

    async def run() -> dict[str, Any]:
        queue = list(reversed(items))
        errors = 0
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(
            limits=limits, timeout=10.0, follow_redirects=False, trust_env=False
        ) as client:

            async def worker() -> None:
                nonlocal errors
                while queue:
                    url, secret, delivery_id, event = queue.pop()
                    body = payload(event)
                    timestamp = int(time.time())
                    headers = {
                        **base_headers(),
                        **signature_headers([secret], event.id, timestamp, body),
                        "X-Moviie-Event": event.type,
                        "X-Moviie-Delivery": delivery_id,
                        "X-Moviie-Attempt": "1",
                        "X-Moviie-Timestamp": str(timestamp),
                    }
                    try:
                        response = await client.post(url, content=body, headers=headers)
                        errors += not 200 <= response.status_code < 300
                    except httpx.HTTPError:
                        errors += 1

            started, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        return {"posted": len(items), "seconds": elapsed, "cpu": cpu, "errors": errors}

    return asyncio.run(run())  # plain asyncio, as `moviie worker` runs


# --------------------------------------------------------------------------------------------
# Moviie


@dataclass
class Target:
    account_id: str
    endpoint_id: str
    secret: str


@dataclass
class Emitted:
    event_id: str
    created: float  # event.created_at, epoch seconds
    committed: float  # time.time() after the commit


@dataclass
class Setup:
    url: str
    data_dir: Path
    env: dict[str, str]
    settings: Any
    targets: list[Target] = field(default_factory=list)

    @property
    def postgres(self) -> bool:
        return not self.url.startswith("sqlite")


async def make_targets(setup: Setup, count: int, hook_url: str) -> list[Target]:
    from moviie.accounts.service import create_account
    from moviie.db.engine import Database
    from moviie.webhooks.schemas import EndpointCreate
    from moviie.webhooks.service import create_endpoint

    db = Database(setup.url)
    targets = []
    try:
        for i in range(count):
            async with db.transaction() as session:
                new = await create_account(
                    session, email=f"bench{i}@example.test", name=f"Bench {i}"
                )
                endpoint = await create_endpoint(
                    session,
                    setup.settings,
                    new.account.id,
                    EndpointCreate(url=hook_url, events=["*"]),
                )
                targets.append(Target(new.account.id, endpoint.id, endpoint.secret))
    finally:
        await db.dispose()
    return targets


def event_data(i: int) -> dict[str, Any]:
    return {"id": f"vid_bench{i:06d}", "title": f"Bench video {i}", "status": "ready"}


async def emit_paced(setup: Setup, count: int, rate: float, offset: int) -> list[Emitted]:
    """`count` events at `rate` per second, one per transaction, round-robin over the accounts."""
    from moviie.db.engine import Database
    from moviie.events.service import emit_event

    db = Database(setup.url)
    out: list[Emitted] = []
    try:
        started = time.perf_counter()
        for i in range(count):
            wait = started + i / rate - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            target = setup.targets[(offset + i) % len(setup.targets)]
            async with db.transaction() as session:
                event = await emit_event(
                    session, target.account_id, EVENT_TYPE, event_data(offset + i)
                )
            out.append(Emitted(event.id, event.created_at.timestamp(), time.time()))
    finally:
        await db.dispose()
    return out


async def emit_batches(setup: Setup, count: int, batch: int, offset: int) -> float:
    """`count` events, `batch` per transaction; the seconds it took."""
    from moviie.db.engine import Database
    from moviie.events.service import emit_event

    db = Database(setup.url)
    try:
        started = time.perf_counter()
        for first in range(0, count, batch):
            async with db.transaction() as session:
                for i in range(first, min(count, first + batch)):
                    target = setup.targets[(offset + i) % len(setup.targets)]
                    await emit_event(session, target.account_id, EVENT_TYPE, event_data(offset + i))
        return time.perf_counter() - started
    finally:
        await db.dispose()


async def fetch(setup: Setup, stmt: Any) -> list[Any]:
    """The rows of one read-only query, through Moviie's own engine (aware UTC datetimes on
    SQLite and PostgreSQL alike)."""
    from moviie.db.engine import Database

    db = Database(setup.url)
    try:
        async with db.transaction(write=False) as session:
            return list((await session.execute(stmt)).all())
    finally:
        await db.dispose()


def pending_spec(setup: Setup, hook_url: str) -> list[dict[str, Any]]:
    """The pending deliveries with their events, as the bare loop needs them."""
    from sqlalchemy import select

    from moviie.db.models import Event, WebhookDelivery

    secrets = {t.endpoint_id: t.secret for t in setup.targets}
    stmt = (
        select(WebhookDelivery.id, WebhookDelivery.endpoint_id, Event)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.status == "pending")
        .order_by(WebhookDelivery.id)
    )
    return [
        {
            "url": hook_url,
            "secret": secrets[endpoint_id],
            "delivery_id": delivery_id,
            "id": event.id,
            "account_id": event.account_id,
            "type": event.type,
            "data": event.data,
            "created_at": event.created_at.isoformat(),
        }
        for delivery_id, endpoint_id, event in asyncio.run(fetch(setup, stmt))
    ]


@dataclass
class Worker:
    proc: subprocess.Popen[Any]
    log: Path
    spawned: float  # time.time()
    ready: float | None = None  # seconds from spawn to its banner, as first seen

    def banner(self) -> bool:
        return "running queues" in self.log.read_text(errors="replace")


def start_worker(setup: Setup, tmp: Path, name: str, children: Children) -> Worker:
    log = tmp / f"worker-{name}.log"
    spawned = time.time()
    argv = [sys.executable, "-m", "moviie", "worker", "--queues", "webhooks"]
    return Worker(spawn_logged(argv, log, children, setup.env), log, spawned)


def wait_worker_ready(worker: Worker, timeout: float = 60.0) -> float:
    """Until the worker prints that it runs its queues; the seconds since it was spawned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.proc.poll() is not None:
            raise BenchFailed(f"worker exited ({worker.proc.returncode})\n{log_tail(worker.log)}")
        if worker.banner():
            worker.ready = time.time() - worker.spawned
            return worker.ready
        time.sleep(0.05)
    raise BenchFailed(f"worker not ready after {timeout:g} s\n{log_tail(worker.log)}")


def wait_received(
    receiver: Receiver, expected: int, timeout: float, worker: Worker | None = None
) -> tuple[int, float | None]:
    """Poll the receiver until it has `expected` distinct events; (count, time.time() when the
    first one was seen by this poll, or None). Notes when the worker prints its banner."""
    deadline = time.monotonic() + timeout
    first_seen = None
    count = 0
    while time.monotonic() < deadline:
        count = receiver.unique()
        now = time.time()
        if count and first_seen is None:
            first_seen = now
        if worker is not None and worker.ready is None and worker.banner():
            worker.ready = now - worker.spawned
        if count >= expected:
            break
        if worker is not None and worker.proc.poll() is not None:
            raise BenchFailed(f"worker exited ({worker.proc.returncode})\n{log_tail(worker.log)}")
        time.sleep(0.05)
    return count, first_seen


# --------------------------------------------------------------------------------------------
# Phases


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def arrivals(dump: list[tuple[str, str, float]]) -> dict[str, tuple[str, float]]:
    """The first arrival of each event id: {event id: (delivery id, time)}."""
    first: dict[str, tuple[str, float]] = {}
    for event_id, delivery_id, arrived in dump:
        if event_id not in first or arrived < first[event_id][1]:
            first[event_id] = (delivery_id, arrived)
    return first


def print_spans(spans: dict[str, list[float]]) -> None:
    for name, values in spans.items():
        if values:
            print(f"    {name:<51} p50 {ms(pct(values, 0.5))}  p99 {ms(pct(values, 0.99))}")


def first_attempt_spans(
    setup: Setup, got: list[tuple[Emitted, tuple[str, float]]]
) -> dict[str, list[float]]:
    """Each received delivery's path, from `events.created_at` and its attempt 1 in
    `webhook_attempts` (`started_at` is when the worker had the answer, less `duration_ms`)."""
    from sqlalchemy import select

    from moviie.db.models import Event, WebhookAttempt, WebhookDelivery

    received = {delivery_id: (e, arrived) for e, (delivery_id, arrived) in got}
    stmt = (
        select(WebhookAttempt, Event.created_at)
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookAttempt.number == 1, WebhookAttempt.delivery_id.in_(received))
    )
    spans: dict[str, list[float]] = {}
    for attempt, created_at in asyncio.run(fetch(setup, stmt)):
        emitted, arrived = received[attempt.delivery_id]
        created, started = created_at.timestamp(), attempt.started_at.timestamp()
        for name, span in (
            ("emit: created_at -> commit", emitted.committed - created),
            ("created_at -> attempt 1 started (poll, lease, sign)", started - created),
            ("attempt 1 started -> received at the receiver", arrived - started),
            ("attempt 1 duration_ms (POST -> answer)", attempt.duration_ms / 1000),
        ):
            spans.setdefault(name, []).append(span)
    return spans


def latency_phase(
    args: argparse.Namespace,
    setup: Setup,
    receiver: Receiver,
    tmp: Path,
    children: Children,
) -> tuple[float, float]:
    worker = start_worker(setup, tmp, "latency", children)
    ready = wait_worker_ready(worker)
    # Warm-up: connections, code paths, the dispatcher's first polls.
    asyncio.run(emit_paced(setup, WARMUP_EVENTS, args.rate, offset=10**6))
    count, _ = wait_received(receiver, WARMUP_EVENTS, 60, worker)
    if count < WARMUP_EVENTS:
        raise BenchFailed(
            f"only {count}/{WARMUP_EVENTS} warm-up events arrived in 60 s\n{log_tail(worker.log)}"
        )
    time.sleep(0.5)
    receiver.reset()
    # What the tuned polling costs when there is nothing to deliver.
    cpu0 = cpu_seconds(worker.proc.pid)
    time.sleep(IDLE_S)
    idle_cpu = (cpu_seconds(worker.proc.pid) - cpu0) / IDLE_S

    emitted = asyncio.run(emit_paced(setup, args.latency_events, args.rate, offset=0))
    count, _ = wait_received(receiver, len(emitted), 60, worker)
    stop_child(worker.proc, children, grace=15)
    first = arrivals(receiver.dump())
    receiver.reset()

    got = [(e, first[e.event_id]) for e in emitted if e.event_id in first]
    if not got:
        raise BenchFailed(f"no latency-phase event arrived\n{log_tail(worker.log)}")
    latencies = [arrived - e.created for e, (_, arrived) in got]
    p50, p99 = pct(latencies, 0.50), pct(latencies, 0.99)
    verdict = "ok" if p50 * 1000 < LATENCY_TARGET_MS else "ABOVE TARGET"
    missing = f" ({len(emitted) - count} never arrived!)" if count < len(emitted) else ""
    emit_span = emitted[-1].committed - emitted[0].created
    print(
        f"latency: {len(emitted)} events at {args.rate:g}/s ({len(emitted) / emit_span:.0f}/s "
        f"reached), one per transaction, after {WARMUP_EVENTS} warm-up events; worker ready "
        f"{ready:.1f} s after spawn{missing}; idle, it used {idle_cpu:.0%} of a core",
        flush=True,
    )
    print(
        f"  emitted -> first attempt received: p50 {ms(p50)}  p99 {ms(p99)}  "
        f"max {ms(max(latencies))}   {verdict} (p50 < {LATENCY_TARGET_MS:.0f} ms)",
        flush=True,
    )
    quarter = max(1, len(latencies) // 4)
    early, late = pct(latencies[:quarter], 0.5), pct(latencies[-quarter:], 0.5)
    if late > 2 * early and late - early > 0.05:
        print(
            f"  the worker fell behind the pace: p50 {ms(early).strip()} over the first quarter "
            f"of the events, {ms(late).strip()} over the last (a backlog, not the dispatcher's "
            "idle latency; try a lower --rate)",
            flush=True,
        )

    # Where the time goes, from Moviie's records: each span's own p50 and p99.
    print("  where it goes (each span's own p50 and p99, from events and webhook_attempts):")
    print_spans(first_attempt_spans(setup, got))
    return p50, p99


@dataclass
class Rate:
    delivered: int
    first: float
    last: float
    duplicates: int

    @property
    def per_s(self) -> float:
        span = self.last - self.first
        return (self.delivered - 1) / span if span > 0 and self.delivered > 1 else 0.0


def rate_of(dump: list[tuple[str, str, float]]) -> Rate:
    first = arrivals(dump)
    times = [t for _, t in first.values()]
    if not times:
        return Rate(0, 0.0, 0.0, 0)
    return Rate(len(first), min(times), max(times), len(dump) - len(first))


def postgres_cpu() -> float:
    """CPU seconds of every local `postgres` process (the server the benchmark talks to, when
    it is local; 0 otherwise)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm == "postgres":
                total += cpu_seconds(int(entry.name))
    return total


def pg_counters(url: str) -> dict[str, int]:
    """Transactions and rows of the benchmark's database (pg_stat_database)."""
    import psycopg

    from common import PG_ADMIN_URL

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback, tup_inserted, tup_updated, tup_deleted, "
            "tup_returned + tup_fetched FROM pg_stat_database WHERE datname = %s",
            (name,),
        ).fetchone()
    keys = ("transactions", "inserted", "updated", "deleted", "read")
    return dict(zip(keys, (int(v) for v in row), strict=True)) if row else {}


def throughput_phase(
    args: argparse.Namespace,
    setup: Setup,
    receiver: Receiver,
    tmp: Path,
    children: Children,
) -> tuple[float, float]:
    emit_s = asyncio.run(emit_batches(setup, args.events, args.batch, offset=10**5))
    spec = pending_spec(setup, receiver.hook_url)
    if len(spec) != args.events:
        raise BenchFailed(f"{len(spec)} pending deliveries after emitting {args.events} events")
    print(
        f"throughput: {args.events} events emitted with no worker running, {args.batch} per "
        f"transaction, in {emit_s:.1f} s ({args.events / emit_s:.0f} events/s)",
        flush=True,
    )

    # bare
    spec_path = tmp / "bare-spec.json"
    spec_path.write_text(json.dumps(spec))
    receiver_cpu = cpu_seconds(receiver.proc.pid)
    done = subprocess.run(
        [
            sys.executable,
            str(HERE),
            "--bare",
            str(spec_path),
            "--bare-concurrency",
            str(args.bare_concurrency),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise BenchFailed(f"bare loop failed ({done.returncode}):\n{done.stderr[-3000:]}")
    bare_out = json.loads(done.stdout.strip().splitlines()[-1])
    bare_receiver_cpu = cpu_seconds(receiver.proc.pid) - receiver_cpu
    bare = rate_of(receiver.dump())
    receiver.reset()
    errors = f", {bare_out['errors']} errors!" if bare_out["errors"] else ""
    print(
        f"  bare httpx loop, {args.bare_concurrency} coroutines: {bare.per_s:6.0f} deliveries/s "
        f"({bare.delivered} in {bare.last - bare.first:.2f} s at the receiver{errors}); "
        f"its CPU {bare_out['cpu']:.1f} s = {bare_out['cpu'] * 1000 / bare.delivered:.1f} ms "
        f"per delivery; receiver CPU {bare_receiver_cpu:.1f} s",
        flush=True,
    )

    # moviie
    counters = pg_counters(setup.url) if setup.postgres else {}
    pg_cpu = postgres_cpu() if setup.postgres else 0.0
    receiver_cpu = cpu_seconds(receiver.proc.pid)
    worker = start_worker(setup, tmp, "throughput", children)
    spy = None
    if args.py_spy:
        time.sleep(1.0)  # past the interpreter's start, still importing
        spy = start_py_spy(worker.proc.pid, Path(args.py_spy) / "worker-throughput.txt")
    timeout = max(120.0, args.events / 10)
    try:
        count, first_seen = wait_received(receiver, args.events, timeout, worker)
    finally:
        if spy is not None:
            stop(spy, grace=30, sig=signal.SIGINT)
    finished = time.time()
    worker_cpu = cpu_seconds(worker.proc.pid)
    moviie_receiver_cpu = cpu_seconds(receiver.proc.pid) - receiver_cpu
    pg_cpu = postgres_cpu() - pg_cpu if setup.postgres else 0.0
    stop_child(worker.proc, children, grace=15)
    moviie = rate_of(receiver.dump())
    receiver.reset()
    if count < args.events:
        print(
            f"  moviie: only {count}/{args.events} arrived within {timeout:.0f} s; "
            "the figures below cover those",
            flush=True,
        )
    dup = f", {moviie.duplicates} duplicate POSTs" if moviie.duplicates else ""
    print(
        f"  moviie, 1 worker:            {moviie.per_s:6.0f} deliveries/s "
        f"({moviie.delivered} in {moviie.last - moviie.first:.2f} s at the receiver{dup}); "
        f"receiver CPU {moviie_receiver_cpu:.1f} s",
        flush=True,
    )
    from_spawn = moviie.last - worker.spawned
    ready = f"ready (banner) at +{worker.ready:.1f} s, " if worker.ready is not None else ""
    print(
        f"    from the worker's spawn: {ready}first delivery at "
        f"+{moviie.first - worker.spawned:.1f} s, last at +{from_spawn:.1f} s "
        f"({moviie.delivered / from_spawn:.0f} deliveries/s with the start-up)",
        flush=True,
    )
    busy = finished - (first_seen or worker.spawned)
    print(
        f"    worker CPU {worker_cpu:.1f} s over {finished - worker.spawned:.1f} s from spawn "
        f"(start-up included; ~{busy:.1f} s of deliveries) = "
        f"{worker_cpu * 1000 / max(1, moviie.delivered):.1f} ms per delivery",
        flush=True,
    )
    if counters:
        print(
            f"    local postgres processes' CPU over the same span: {pg_cpu:.1f} s = "
            f"{pg_cpu * 1000 / max(1, moviie.delivered):.1f} ms per delivery",
            flush=True,
        )
        after = pg_counters(setup.url)
        per = {k: (after[k] - counters[k]) / max(1, moviie.delivered) for k in counters}
        print(
            "    PostgreSQL, per delivery (pg_stat_database, the worker's whole run): "
            + ", ".join(
                f"{v:.1f} rows {k}" if k != "transactions" else f"{v:.1f} {k}"
                for k, v in per.items()
            ),
            flush=True,
        )
    attempts_summary(setup, args, worker.spawned)
    if spy is not None:
        out = Path(args.py_spy) / "worker-throughput.txt"
        print(f"    py-spy, worker, hottest frames ({out}):")
        for line in summarize_profile(out):
            print(f"      {line}")
    return moviie.per_s, bare.per_s


def attempts_summary(setup: Setup, args: argparse.Namespace, since: float) -> None:
    """The attempts the worker recorded from `since` on, from `webhook_attempts`."""
    from sqlalchemy import select

    from moviie.db.models import WebhookAttempt

    a = WebhookAttempt
    stmt = select(a.started_at, a.duration_ms, a.error).where(
        a.started_at >= datetime.fromtimestamp(since, UTC)
    )
    rows = asyncio.run(fetch(setup, stmt))
    if not rows:
        print("    (no attempts recorded)")
        return
    durations = [d / 1000 for _, d, _ in rows]
    begin = min(s.timestamp() for s, _, _ in rows)
    wall = max(s.timestamp() + d for (s, _, _), d in zip(rows, durations, strict=True)) - begin
    cap = min(args.worker_concurrency, args.endpoints * args.endpoint_concurrency)
    print(
        f"    webhook_attempts: {len(rows)} recorded, {sum(e is None for _, _, e in rows)} "
        f"succeeded; duration_ms p50 {ms(pct(durations, 0.5)).strip()}, p99 "
        f"{ms(pct(durations, 0.99)).strip()}; mean POSTs in flight "
        f"{sum(durations) / max(wall, 1e-9):.1f} (cap {cap})",
        flush=True,
    )


# --------------------------------------------------------------------------------------------
# py-spy (optional)


def summarize_profile(path: Path, top: int = 12) -> list[str]:
    """From a py-spy raw file: the share of samples per thread (pools summed), the Moviie
    functions with the most samples under them (inclusive), and the hottest leaves."""
    if not path.exists():
        return [f"(no profile at {path})"]
    threads: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    leaves: dict[str, int] = {}
    total = 0
    for frames, n in py_spy_samples(path):
        total += n
        thread = re.sub(r"^thread \(\d+\): ", "", frames[0])
        thread = re.sub(r"^Thread-\d+ |-?_\d+$", "", thread)
        threads[thread] = threads.get(thread, 0) + n
        leaves[frames[-1]] = leaves.get(frames[-1], 0) + n
        for function in {re.sub(r":\d+\)$", ")", f) for f in frames[1:]}:
            if "(moviie/" in function and "(moviie/cli.py" not in function:
                inclusive[function] = inclusive.get(function, 0) + n
    if not total:
        return []

    def ranked(counts: dict[str, int], limit: int) -> list[tuple[str, int]]:
        return sorted(counts.items(), key=lambda item: -item[1])[:limit]

    out = [
        "threads: " + ", ".join(f"{name} {100 * n / total:.0f}%" for name, n in ranked(threads, 6))
    ]
    out += [f"{100 * n / total:5.1f}% incl  {f}" for f, n in ranked(inclusive, top)]
    out += [f"{100 * n / total:5.1f}% leaf  {f}" for f, n in ranked(leaves, top)]
    return out


# --------------------------------------------------------------------------------------------
# Orchestration


def prepare(args: argparse.Namespace, tmp: Path, url: str) -> Setup:
    from moviie.config import Settings

    data_dir = tmp / "data"
    data_dir.mkdir()
    env = moviie_env(
        url,
        data_dir,
        {
            "MOVIIE_WEBHOOK_POLLING_INTERVAL_S": str(args.poll),
            "MOVIIE_WEBHOOKS_ALLOW_PRIVATE": "true",
            "MOVIIE_EXECUTOR_ID": "bench-webhooks-worker",
        },
    )
    # The settings the worker will see: its environment's MOVIIE_*.
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        settings = Settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    args.worker_concurrency = settings.webhook_concurrency
    args.endpoint_concurrency = settings.webhook_endpoint_concurrency
    if args.bare_concurrency is None:  # as many in flight as the worker can have
        args.bare_concurrency = min(
            settings.webhook_concurrency, args.endpoints * settings.webhook_endpoint_concurrency
        )
    moviie_cli(env, "migrate")
    return Setup(url, data_dir, env, settings)


def run(args: argparse.Namespace, tmp: Path, children: Children) -> int:
    with fresh_database(args.database, tmp / "data" / "moviie.db") as url:
        setup = prepare(args, tmp, url)
        receiver = start_receiver(tmp, children)
        setup.targets = asyncio.run(make_targets(setup, args.endpoints, receiver.hook_url))
        cap = min(args.worker_concurrency, args.endpoints * args.endpoint_concurrency)
        print(
            f"webhooks bench: {args.database}, {os.cpu_count()} CPUs; 1 worker "
            f"(webhooks queue only), poll {args.poll:g} s (Moviie's default: 0.1 s), "
            f"webhook concurrency {args.worker_concurrency}, per endpoint "
            f"{args.endpoint_concurrency}; {args.endpoints} endpoint(s) (one per account, events "
            f"round-robin) -> at most {cap} deliveries in flight; receiver: uvicorn on "
            f"{receiver.base}",
            flush=True,
        )
        p50, p99 = latency_phase(args, setup, receiver, tmp, children)
        moviie_rate, bare_rate = throughput_phase(args, setup, receiver, tmp, children)

    ratio = moviie_rate / bare_rate if bare_rate else 0.0
    print()
    print(f"latency p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms", end="   ")
    verdict = "ok" if p50 * 1000 < LATENCY_TARGET_MS else "ABOVE TARGET"
    print(f"{verdict} (p50 < {LATENCY_TARGET_MS:.0f} ms)")
    print(f"moviie {moviie_rate:.0f} deliveries/s, bare {bare_rate:.0f} deliveries/s")
    verdict = "ok" if ratio >= THROUGHPUT_TARGET else "BELOW TARGET"
    print(f"moviie/bare = {ratio:.2f}   {verdict} (>= {THROUGHPUT_TARGET:.1f})")
    return 0


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--events", type=int, default=5000, help="events of the throughput run")
    parser.add_argument(
        "--endpoints",
        type=int,
        default=4,
        help="accounts, each with one endpoint on the receiver; events go round-robin",
    )
    parser.add_argument(
        "--poll", type=float, default=0.02, help="MOVIIE_WEBHOOK_POLLING_INTERVAL_S of the worker"
    )
    parser.add_argument("--latency-events", type=int, default=200, help="events of the latency run")
    parser.add_argument(
        "--rate",
        type=float,
        default=10.0,
        help="events/s of the latency run (keep it under what one worker delivers)",
    )
    parser.add_argument(
        "--batch", type=int, default=200, help="events per transaction when emitting the backlog"
    )
    parser.add_argument(
        "--bare-concurrency",
        type=int,
        default=None,
        help="coroutines of the bare loop (default: the worker's cap, min(webhook concurrency, "
        "endpoints x per-endpoint concurrency))",
    )
    parser.add_argument(
        "--py-spy", metavar="DIR", help="record the throughput run's worker with py-spy"
    )
    parser.add_argument(
        "--keep-tmp", action="store_true", help="keep the temp dir (database, logs)"
    )
    # internal modes
    parser.add_argument("--receive", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--bare", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.receive:
        serve_receiver(args.receive)
        return 0
    if args.bare:
        print(json.dumps(bare_post(args.bare, args.bare_concurrency or 32)))
        return 0
    if min(args.events, args.endpoints, args.latency_events, args.batch) < 1 or args.rate <= 0:
        parser.error("--events, --endpoints, --latency-events, --batch and --rate must be >= 1")
    if args.poll <= 0:
        parser.error("--poll must be > 0")

    return run_benchmark("moviie-bench-webhooks-", partial(run, args), keep_tmp=args.keep_tmp)


if __name__ == "__main__":
    sys.exit(main())
