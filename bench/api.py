"""GET /v1/me through the full Moviie stack next to a bare FastAPI handler reading the same row.

    .venv/bin/python bench/api.py [--backend sqlite|postgresql|both] [--seconds N] [--concurrency C]

For each backend this creates a fresh, migrated database with one account and its private key,
serves two apps with uvicorn (one worker each, in their own processes, on 127.0.0.1):

* full: `moviie.app.create_app` (middleware, bearer auth + key lookup, rate limiter, session
  dependency, response model), `GET /v1/me`;
* bare: a one-route FastAPI app, `GET /bare/me`, that opens a session from the same
  `moviie.db.engine.Database` and does `session.get(Account, id)`; no auth, no middleware;

and loads them from another process (wrk when installed, else an asyncio httpx client),
alternately (full, bare, full, bare, ...), keeping the best round of each. It prints throughput,
p50/p99 latency and the full/bare throughput ratio. A measurement, not a test: it exits 0
whatever the figures (non-zero only if the setup itself fails).

Internal modes (used by the above, in subprocesses):
    bench/api.py --serve full|bare --port P --url DB_URL --data-dir D [--account-id A]
    bench/api.py --load URL --seconds N --concurrency C [--header 'Name: value']
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fastapi import FastAPI, HTTPException, Request  # module level: route annotations resolve here

from common import HOST, create_pg_database, drop_pg_database, free_port, stop

THROUGHPUT_TARGET = 0.60
HERE = Path(__file__).resolve()


# --------------------------------------------------------------------------------------------
# Serving (subprocess)


def build_bare_app(url: str, account_id: str) -> Any:
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from moviie.db.engine import Database
    from moviie.db.models import Account

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(url)
        try:
            yield
        finally:
            await app.state.db.dispose()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/bare/me")
    async def bare_me(request: Request) -> dict[str, Any]:
        db: Database = request.app.state.db
        async with db.transaction(write=False) as session:
            account = await session.get(Account, account_id)
        if account is None:
            raise HTTPException(404)
        return {
            "id": account.id,
            "name": account.name,
            "email": account.email,
            "plan": account.plan,
            "credits_balance": account.credits_balance,
            "created_at": account.created_at.isoformat(),
        }

    return app


def bench_settings(url: str, data_dir: str) -> Any:
    from moviie.config import Settings

    return Settings(
        data_dir=Path(data_dir),
        database_url=url,
        log_level="WARNING",
        log_format="json",
        # The limiter still counts every request, but never refuses one.
        rate_limit_per_minute=10**9,
    )


def serve(kind: str, port: int, url: str, data_dir: str, account_id: str | None) -> None:
    import uvicorn

    if kind == "full":
        from moviie.app import create_app
        from moviie.log import configure_logging

        settings = bench_settings(url, data_dir)
        # As `moviie serve` does: our logging, uvicorn's own config off.
        configure_logging(settings.log_format, settings.log_level)
        app = create_app(settings)
    else:
        if not account_id:
            raise SystemExit("--serve bare needs --account-id")
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
    generator: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def load_httpx(
    url: str, seconds: float, concurrency: int, headers: dict[str, str]
) -> dict[str, Any]:
    """C keep-alive connections, each issuing requests back to back for `seconds`."""
    import httpx

    async def run() -> dict[str, Any]:
        latencies: list[float] = []
        errors = 0
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=30.0, headers=headers) as client:
            started = time.perf_counter()
            deadline = started + seconds

            async def worker() -> None:
                nonlocal errors
                while time.perf_counter() < deadline:
                    t0 = time.perf_counter()
                    try:
                        response = await client.get(url)
                        ok = response.status_code < 400
                    except httpx.HTTPError:
                        ok = False
                    latencies.append(time.perf_counter() - t0)
                    errors += not ok

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
        latencies.sort()

        def pct(q: float) -> float:
            if not latencies:
                return 0.0
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

        return {
            "requests": len(latencies),
            "seconds": elapsed,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "errors": errors,
        }

    try:
        import uvloop

        return uvloop.run(run())
    except ImportError:
        return asyncio.run(run())


WRK_SCRIPT = """
wrk.headers["Authorization"] = %s
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
    """Runs one measurement in a separate process and returns its Result."""

    def __init__(self, force_httpx: bool, tmp: Path, procs: list[subprocess.Popen[Any]]) -> None:
        self.wrk = None if force_httpx else shutil.which("wrk")
        self.name = f"wrk ({self.wrk})" if self.wrk else "httpx (python asyncio, subprocess)"
        self.tmp = tmp
        self.procs = procs

    def _run(self, argv: list[str], timeout: float) -> str:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(proc)
        try:
            out, err = proc.communicate(timeout=timeout)
        finally:
            stop(proc)
            self.procs.remove(proc)
        if proc.returncode != 0:
            raise RuntimeError(
                f"load generator failed ({proc.returncode}): {err.strip() or out.strip()}"
            )
        return out

    def measure(self, url: str, seconds: float, concurrency: int, auth: str | None) -> Result:
        if self.wrk:
            script = self.tmp / f"wrk-{uuid.uuid4().hex[:8]}.lua"
            script.write_text(WRK_SCRIPT % lua_string(auth or ""))
            argv = [
                self.wrk,
                "-t1",
                f"-c{concurrency}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                str(script),
                url,
            ]
            out = self._run(argv, timeout=seconds + 60)
            line = next((ln for ln in out.splitlines() if ln.startswith("WRKJSON ")), None)
            if line is None:
                raise RuntimeError(f"unexpected wrk output:\n{out}")
            data = json.loads(line[len("WRKJSON ") :])
            return Result(
                "wrk",
                data["requests"],
                data["duration_us"] / 1e6,
                data["p50_us"] / 1000,
                data["p99_us"] / 1000,
                data["errors"],
            )
        argv = [
            sys.executable,
            str(HERE),
            "--load",
            url,
            "--seconds",
            str(seconds),
            "--concurrency",
            str(concurrency),
        ]
        if auth:
            argv += ["--header", f"Authorization: {auth}"]
        out = self._run(argv, timeout=seconds + 120)
        data = json.loads(out.strip().splitlines()[-1])
        return Result(
            "httpx",
            data["requests"],
            data["seconds"],
            data["p50_ms"],
            data["p99_ms"],
            data["errors"],
        )


# --------------------------------------------------------------------------------------------
# Orchestration


def prepare(url: str, data_dir: Path) -> tuple[str, str]:
    """Migrate `url` and create one account; returns (account id, private key)."""
    from moviie.accounts.service import create_account
    from moviie.db.engine import Database
    from moviie.db.migrate import upgrade
    from moviie.jobs.engine import migrate_engine

    upgrade(url)
    migrate_engine(bench_settings(url, str(data_dir)))

    async def make() -> tuple[str, str]:
        db = Database(url)
        try:
            async with db.transaction() as session:
                new = await create_account(session, email="bench@example.com", name="Bench")
                return new.account.id, new.private_key
        finally:
            await db.dispose()

    return asyncio.run(make())


def start_server(
    kind: str,
    url: str,
    data_dir: Path,
    account_id: str,
    procs: list[subprocess.Popen[Any]],
    log: Path,
) -> tuple[subprocess.Popen[Any], int]:
    port = free_port()
    argv = [
        sys.executable,
        str(HERE),
        "--serve",
        kind,
        "--port",
        str(port),
        "--url",
        url,
        "--data-dir",
        str(data_dir),
        "--account-id",
        account_id,
    ]
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    procs.append(proc)
    return proc, port


def wait_ready(
    proc: subprocess.Popen[Any], url: str, headers: dict[str, str], account_id: str, log: Path
) -> None:
    import httpx

    deadline = time.monotonic() + 60
    last: str = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited ({proc.returncode}); log:\n{log.read_text()[-3000:]}"
            )
        try:
            response = httpx.get(url, headers=headers, timeout=5)
            if response.status_code == 200:
                if response.json().get("id") != account_id:
                    raise RuntimeError(f"{url} answered another account: {response.text}")
                return
            last = f"{response.status_code} {response.text[:300]}"
            if 400 <= response.status_code < 500:
                raise RuntimeError(f"{url} answered {last}")
        except httpx.TransportError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after 60 s: {last}")


def fmt(result: Result) -> str:
    text = f"{result.rps:7.0f} req/s p50 {result.p50_ms:6.2f} ms p99 {result.p99_ms:6.2f} ms"
    if result.errors:
        text += f" ({result.errors} errors!)"
    return text


def run_backend(
    backend: str,
    args: argparse.Namespace,
    loader: Loader,
    tmp: Path,
    procs: list[subprocess.Popen[Any]],
) -> None:
    data_dir = tmp / f"data-{backend}"
    data_dir.mkdir()
    url = (
        f"sqlite:///{(data_dir / 'moviie.db').resolve()}"
        if backend == "sqlite"
        else create_pg_database()
    )
    started: list[subprocess.Popen[Any]] = []
    try:
        account_id, key = prepare(url, data_dir)
        auth = f"Bearer {key}"
        servers: dict[str, tuple[str, str | None]] = {}
        for kind, path, header in (("full", "/v1/me", auth), ("bare", "/bare/me", None)):
            log = tmp / f"{backend}-{kind}.log"
            proc, port = start_server(kind, url, data_dir, account_id, procs, log)
            started.append(proc)
            target = f"http://{HOST}:{port}{path}"
            wait_ready(proc, target, {"Authorization": header} if header else {}, account_id, log)
            servers[kind] = (target, header)

        # Warm up both (connections in the pools, code paths, last_used_at stamp), then alternate.
        for kind in ("full", "bare"):
            target, header = servers[kind]
            loader.measure(target, min(2.0, args.seconds), args.concurrency, header)
        rounds: dict[str, list[Result]] = {"full": [], "bare": []}
        for i in range(args.rounds):
            for kind in ("full", "bare"):
                target, header = servers[kind]
                result = loader.measure(target, args.seconds, args.concurrency, header)
                rounds[kind].append(result)
                print(f"  {backend:<10} round {i + 1} {kind}: {fmt(result)}", flush=True)
        full = max(rounds["full"], key=lambda r: r.rps)
        bare = max(rounds["bare"], key=lambda r: r.rps)
        ratio = full.rps / bare.rps if bare.rps else 0.0
        verdict = "ok" if ratio >= THROUGHPUT_TARGET else "BELOW TARGET"
        print(
            f"{backend:<10} full /v1/me: {fmt(full)} | bare: {fmt(bare)} | "
            f"ratio {ratio:.2f} (target >= {THROUGHPUT_TARGET:.2f}, {verdict})",
            flush=True,
        )
    finally:
        for proc in started:
            stop(proc)
            if proc in procs:
                procs.remove(proc)
        if backend == "postgresql":
            drop_pg_database(url)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of one measurement")
    parser.add_argument("--concurrency", type=int, default=32, help="open keep-alive connections")
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating rounds per server (best kept)"
    )
    parser.add_argument(
        "--httpx", action="store_true", help="use the httpx load generator even if wrk exists"
    )
    # internal modes
    parser.add_argument("--serve", choices=["full", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--account-id", help=argparse.SUPPRESS)
    parser.add_argument("--load", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--header", action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        serve(args.serve, args.port, args.url, args.data_dir, args.account_id)
        return 0
    if args.load:
        headers = dict(h.split(": ", 1) for h in args.header)
        print(json.dumps(load_httpx(args.load, args.seconds, args.concurrency, headers)))
        return 0

    # SIGINT (even if inherited as ignored) and SIGTERM both raise KeyboardInterrupt, so the finally
    # blocks below stop every server and load generator and drop the PostgreSQL database.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    procs: list[subprocess.Popen[Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix="moviie-bench-"))
    try:
        loader = Loader(args.httpx, tmp, procs)
        print(
            "GET /v1/me (full stack) vs GET /bare/me (bare FastAPI + session.get), "
            f"uvicorn 1 worker each; load: {loader.name}, {args.concurrency} connections, "
            f"{args.seconds:g} s x {args.rounds} alternating rounds, best kept; "
            f"{os.cpu_count()} CPUs",
            flush=True,
        )
        if not loader.wrk:
            print(
                "note: the httpx generator tops out near the server's own rate on a small "
                "machine, so the two figures converge and the ratio reads high; install wrk "
                "for real figures.",
                flush=True,
            )
        for backend in backends:
            run_backend(backend, args, loader, tmp, procs)
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        for proc in list(procs):
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
