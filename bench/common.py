"""What the benchmarks share: loopback ports, throwaway databases, `python -m moviie` and other
children (started, waited for, stopped), the apps they serve, ffmpeg, CPU time and py-spy."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
PG_ADMIN_URL = os.environ.get(
    "MOVIIE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
Children = list[subprocess.Popen[Any]]  # every child still running, for run_benchmark to stop


class BenchFailed(RuntimeError):
    """A setup step, a child process or a measured run failed: run_benchmark exits 1."""


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """A bench's parser, its `--help` showing the module's docstring as written."""
    return argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def pct(values: Sequence[float], q: float) -> float:
    """The `q` quantile (0..1) of `values`, nearest rank; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def log_tail(log: Path, chars: int = 4000) -> str:
    """The end of a child's log, to show with its failure."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return f"--- {log}, last lines ---\n{text[-chars:]}"


# --------------------------------------------------------------------------------------------
# Databases


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


@contextmanager
def fresh_database(backend: str, sqlite_file: Path) -> Iterator[str]:
    """The URL of a new, empty database: `sqlite_file` for "sqlite", else a PostgreSQL database
    created on PG_ADMIN_URL and dropped on the way out (whatever happened inside)."""
    if backend == "sqlite":
        yield f"sqlite:///{sqlite_file.resolve()}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


# --------------------------------------------------------------------------------------------
# Children


def moviie_env(url: str, data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a `python -m moviie` child: this one's, with the bench's database and
    data dir, WARNING logs (so logging does not weigh on the figures), and `extra`."""
    return {
        **os.environ,
        "MOVIIE_DATABASE_URL": url,
        "MOVIIE_DATA_DIR": str(data_dir),
        "MOVIIE_LOG_LEVEL": "WARNING",
        **(extra or {}),
    }


def moviie_cli(env: dict[str, str], *argv: str, timeout: float | None = None) -> str:
    """`python -m moviie *argv`'s stdout; BenchFailed with its output when it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "moviie", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise BenchFailed(
            f"moviie {' '.join(argv)} failed ({done.returncode}):\n{done.stderr}{done.stdout}"
        )
    return done.stdout


def migrated_account(env: dict[str, str], timeout: float | None = None) -> dict[str, Any]:
    """`moviie migrate`, then one account made by `moviie accounts create --json`: its JSON
    (ids and keys)."""
    moviie_cli(env, "migrate", timeout=timeout)
    argv = ("accounts", "create", "--email", "bench@example.test", "--name", "Bench", "--json")
    return dict(json.loads(moviie_cli(env, *argv, timeout=timeout)))


def spawn_logged(
    argv: list[str], log: Path, children: Children, env: dict[str, str] | None = None
) -> subprocess.Popen[Any]:
    """Start a child with its stdout and stderr appended to `log`, and count it in `children`."""
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    children.append(proc)
    return proc


def spawn_moviie(
    command: str, log: Path, children: Children, env: dict[str, str]
) -> tuple[subprocess.Popen[Any], str]:
    """`python -m moviie <command>` (serve, api) on a free loopback port, logged to `log`:
    the process and its base URL (not yet answering: see wait_http_ok)."""
    port = free_port()
    argv = [sys.executable, "-m", "moviie", command, "--port", str(port)]
    return spawn_logged(argv, log, children, env), f"http://{HOST}:{port}"


def wait_http_ok(
    proc: subprocess.Popen[Any],
    url: str,
    what: str,
    log: Path,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Any:
    """Poll `GET url` until it answers 200 and return that response. BenchFailed, with the end
    of `log`, when the child exits, a 4xx says it never will, or `timeout` passes."""
    import httpx

    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchFailed(f"{what} exited ({proc.returncode})\n{log_tail(log)}")
        try:
            response = httpx.get(url, headers=headers, timeout=5)
            if response.status_code == 200:
                return response
            last = f"{response.status_code} {response.text[:300]}"
            if 400 <= response.status_code < 500:
                raise BenchFailed(f"{what}: GET {url} answered {last}\n{log_tail(log)}")
        except httpx.TransportError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise BenchFailed(f"{what} not ready after {timeout:g} s: {last}\n{log_tail(log)}")


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


def stop_child(proc: subprocess.Popen[Any], children: Children, grace: float = 5.0) -> None:
    """Stop a child the bench is done with, so run_benchmark does not stop it again."""
    stop(proc, grace=grace)
    if proc in children:
        children.remove(proc)


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` itself (not its children, e.g. ffmpeg); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_benchmark(
    prefix: str,
    body: Callable[[Path, Children], int],
    *,
    keep_tmp: bool = False,
    failures: tuple[type[BaseException], ...] = (BenchFailed,),
) -> int:
    """Run `body(tmp_dir, children)` and always clean up: every child stopped (SIGINT, so py-spy
    writes its profile and uvicorn stops), the temp dir removed. Ctrl-C and SIGTERM exit 130."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    children: Children = []
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


# --------------------------------------------------------------------------------------------
# Serving the apps under test (in a child)


def serve_app(app: Any, port: int) -> None:
    """uvicorn as `moviie api` runs it: one worker, no access log, no header of its own."""
    import uvicorn

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


def bare_fastapi(url: str) -> Any:
    """A FastAPI app with no docs and a `moviie.db.engine.Database` on `app.state.db` (the same
    engine and pool as Moviie's), for a bench's bare baseline to add its routes to."""
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    from moviie.db.engine import Database

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(url)
        try:
            yield
        finally:
            await app.state.db.dispose()

    return FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


# --------------------------------------------------------------------------------------------
# ffmpeg


def ffmpeg_path() -> str:
    """The ffmpeg binary Moviie itself runs."""
    from moviie.config import Settings
    from moviie.media.ffmpeg import ffmpeg_binary

    return ffmpeg_binary(Settings())


def run_ffmpeg(cmd: list[str], what: str) -> float:
    """Seconds around `subprocess.run(cmd)`; BenchFailed with the end of its errors if it fails."""
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchFailed(
            f"ffmpeg ({what}) exited with {done.returncode}:\n{done.stderr[-3000:]}\n"
            f"command: {' '.join(cmd)}"
        )
    return elapsed


# --------------------------------------------------------------------------------------------
# py-spy (optional)


def start_py_spy(pid: int, out: Path) -> subprocess.Popen[Any]:
    """Record `pid` into `out` (raw collapsed stacks, every thread); stop it with SIGINT so it
    writes the file."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [exe, "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "-o", str(out)]
    argv += ["--nonblocking", "--threads"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # attached before the work to record starts
    return proc


def py_spy_samples(path: Path) -> Iterator[tuple[list[str], int]]:
    """(frames, outermost first; samples) of each stack in a py-spy raw file."""
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            yield stack.split(";"), int(count)
