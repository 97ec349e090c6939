"""What the benchmarks share: loopback ports, throwaway PostgreSQL databases, stopping servers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
PG_ADMIN_URL = os.environ.get(
    "MOVIIE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def create_pg_database() -> str:
    import psycopg

    name = f"moviie_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    """Drop a benchmark's database; a failure is reported, never raised over the run's own."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception as exc:
        print(f"could not drop {url}: {exc}", file=sys.stderr)


def stop(proc: subprocess.Popen[Any], grace: float = 5.0, sig: int = signal.SIGTERM) -> None:
    """Ask a child to stop with `sig`, then kill it after `grace` seconds."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)
    except ProcessLookupError:
        pass


class BenchFailed(RuntimeError):
    """A setup step, a child process or a measured run failed: run_benchmark exits 1."""


def run_benchmark(
    prefix: str,
    body: Callable[[Path, list[subprocess.Popen[Any]]], int],
    *,
    keep_tmp: bool = False,
    failures: tuple[type[BaseException], ...] = (BenchFailed,),
) -> int:
    """Run `body(tmp_dir, children)` and always clean up: every child stopped (SIGINT, so py-spy
    writes its profile and uvicorn stops), the temp dir removed. Ctrl-C and SIGTERM exit 130."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    children: list[subprocess.Popen[Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        return body(tmp, children)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except failures as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    finally:
        for child in list(children):
            stop(child, sig=signal.SIGINT)
        if keep_tmp:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
