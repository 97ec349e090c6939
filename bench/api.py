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
import sys
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fastapi import HTTPException, Request  # module level: route annotations resolve here

from common import (
    BenchFailed,
    Children,
    bench_parser,
    fresh_database,
    run_benchmark,
    serve_app,
    stop_child,
)
from load import Loader, LoadResult, best_alternating, httpx_load, lua_string, serve_in_child

THROUGHPUT_TARGET = 0.60
HERE = Path(__file__).resolve()


# --------------------------------------------------------------------------------------------
# Serving (subprocess)


def build_bare_app(url: str, account_id: str) -> Any:
    from common import bare_fastapi
    from moviie.db.engine import Database
    from moviie.db.models import Account

    app = bare_fastapi(url)

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
    serve_app(app, port)


# --------------------------------------------------------------------------------------------
# Load generation


def load_get(url: str, seconds: float, concurrency: int, headers: dict[str, str]) -> dict[str, Any]:
    """The `--load` child: GET `url` back to back on each connection."""

    async def get(client: Any) -> bool:
        return bool((await client.get(url)).status_code < 400)

    return httpx_load(seconds, concurrency, headers, get)


def measure(
    loader: Loader, url: str, seconds: float, concurrency: int, auth: str | None
) -> LoadResult:
    lua = f'wrk.headers["Authorization"] = {lua_string(auth or "")}'
    header = ["--header", f"Authorization: {auth}"] if auth else []
    return loader.measure(url, seconds, concurrency, lua, header)


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
    path: str,
    url: str,
    data_dir: Path,
    account_id: str,
    auth: str | None,
    log: Path,
    children: Children,
) -> tuple[Any, str]:
    """Serve `kind` in a child and wait until `path` answers this account; (child, its URL)."""
    options = ["--url", url, "--data-dir", str(data_dir), "--account-id", account_id]
    headers = {"Authorization": auth} if auth else {}
    proc, base, response = serve_in_child(HERE, kind, options, path, log, children, headers=headers)
    if response.json().get("id") != account_id:
        raise BenchFailed(f"{base}{path} answered another account: {response.text}")
    return proc, base + path


def fmt(result: LoadResult) -> str:
    text = f"{result.per_s:7.0f} req/s p50 {result.p50_ms:6.2f} ms p99 {result.p99_ms:6.2f} ms"
    if result.errors:
        text += f" ({result.errors} errors!)"
    return text


def run_backend(
    backend: str, args: argparse.Namespace, loader: Loader, tmp: Path, children: Children
) -> None:
    data_dir = tmp / f"data-{backend}"
    data_dir.mkdir()
    started: Children = []
    with fresh_database(backend, data_dir / "moviie.db") as url:
        try:
            account_id, key = prepare(url, data_dir)
            auth = f"Bearer {key}"
            servers: dict[str, tuple[str, str | None]] = {}
            for kind, path, header in (("full", "/v1/me", auth), ("bare", "/bare/me", None)):
                log = tmp / f"{backend}-{kind}.log"
                proc, target = start_server(
                    kind, path, url, data_dir, account_id, header, log, children
                )
                started.append(proc)
                servers[kind] = (target, header)

            def one(kind: str, seconds: float) -> LoadResult:
                target, header = servers[kind]
                return measure(loader, target, seconds, args.concurrency, header)

            full, bare = best_alternating(one, args.seconds, args.rounds, backend, fmt)
            ratio = full.per_s / bare.per_s if bare.per_s else 0.0
            verdict = "ok" if ratio >= THROUGHPUT_TARGET else "BELOW TARGET"
            print(
                f"{backend:<10} full /v1/me: {fmt(full)} | bare: {fmt(bare)} | "
                f"ratio {ratio:.2f} (target >= {THROUGHPUT_TARGET:.2f}, {verdict})",
                flush=True,
            )
        finally:
            for proc in started:  # before the database is dropped: they hold connections
                stop_child(proc, children)


def run(args: argparse.Namespace, tmp: Path, children: Children) -> int:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    loader = Loader(args.httpx, HERE, tmp, children)
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
        run_backend(backend, args, loader, tmp, children)
    return 0


def main() -> int:
    parser = bench_parser(__doc__)
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
        print(json.dumps(load_get(args.load, args.seconds, args.concurrency, headers)))
        return 0

    # Every server and load generator is stopped and the PostgreSQL database dropped, whatever
    # happens (Ctrl-C and SIGTERM included).
    return run_benchmark("moviie-bench-", partial(run, args))


if __name__ == "__main__":
    sys.exit(main())
