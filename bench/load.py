"""What bench/api.py and bench/analytics.py share: their full and bare apps served in children,
the HTTP load generator, and the full/bare rounds.

Load comes from another process, so that the generator does not share the bench's interpreter:
wrk when it is installed (a Lua script of the bench's own, plus a `done` hook that reports
p50/p99 as JSON), otherwise the bench itself in its `--load` mode, which runs `httpx_load`.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from common import (
    HOST,
    BenchFailed,
    Children,
    free_port,
    pct,
    spawn_logged,
    stop_child,
    wait_http_ok,
)

KINDS = ("full", "bare")  # the app under test and its baseline, measured in this order

# Appended to each bench's script: wrk's summary as one JSON line on stdout.
WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %.1f, "p99_us": %.1f, '
      .. '"errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serve_in_child(
    bench: Path,
    kind: str,
    options: list[str],
    ready: str,
    log: Path,
    children: Children,
    env: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[Any], str, Any]:
    """`bench --serve KIND --port P *options` in a child, its output in `log`, waited for until
    `GET ready` answers 200; (the child, its base URL, that answer)."""
    port = free_port()
    argv = [sys.executable, str(bench), "--serve", kind, "--port", str(port), *options]
    proc = spawn_logged(argv, log, children, env)
    base = f"http://{HOST}:{port}"
    return proc, base, wait_http_ok(proc, base + ready, f"{kind} server", log, headers)


# --------------------------------------------------------------------------------------------
# The httpx generator (in the bench's `--load` child)


def httpx_load(
    seconds: float,
    concurrency: int,
    headers: dict[str, str],
    send: Callable[[Any], Awaitable[bool]],
) -> dict[str, Any]:
    """`concurrency` keep-alive connections, each calling `send(client)` (one request; True when
    it was answered as expected) back to back for `seconds`. The figures as JSON-ready fields."""
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
                        ok = await send(client)
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


# --------------------------------------------------------------------------------------------
# The bench's side


class Loader:
    """Runs one load measurement in a separate process: wrk, else `bench --load URL ...`."""

    def __init__(self, force_httpx: bool, bench: Path, tmp: Path, children: Children) -> None:
        self.wrk = None if force_httpx else shutil.which("wrk")
        self.name = f"wrk ({self.wrk})" if self.wrk else "httpx (python asyncio, subprocess)"
        self.bench = bench
        self.tmp = tmp
        self.children = children
        self.scripts: dict[str, Path] = {}  # Lua preamble -> its script, written once

    def measure(
        self, url: str, seconds: float, concurrency: int, lua: str, httpx_args: list[str]
    ) -> LoadResult:
        """Load `url`: wrk runs the Lua `lua` (setting up each request), or the httpx child gets
        `httpx_args` after `--load URL --seconds N --concurrency C`."""
        if self.wrk:
            return self._wrk(url, seconds, concurrency, self._script(lua))
        argv = [sys.executable, str(self.bench), "--load", url, "--seconds", str(seconds)]
        argv += ["--concurrency", str(concurrency), *httpx_args]
        data = json.loads(self._run(argv, timeout=seconds + 120).strip().splitlines()[-1])
        return LoadResult(
            data["requests"], data["seconds"], data["p50_ms"], data["p99_ms"], data["errors"]
        )

    def _script(self, lua: str) -> Path:
        if lua not in self.scripts:
            path = self.tmp / f"wrk-{uuid.uuid4().hex[:8]}.lua"
            path.write_text(lua + WRK_DONE)
            self.scripts[lua] = path
        return self.scripts[lua]

    def _wrk(self, url: str, seconds: float, concurrency: int, script: Path) -> LoadResult:
        assert self.wrk is not None
        argv = [self.wrk, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s"]
        argv += ["--timeout", "30s", "--latency", "-s", str(script), url]
        out = self._run(argv, timeout=seconds + 60)
        line = next((ln for ln in out.splitlines() if ln.startswith("WRKJSON ")), None)
        if line is None:
            raise BenchFailed(f"unexpected wrk output:\n{out}")
        data = json.loads(line[len("WRKJSON ") :])
        return LoadResult(
            data["requests"],
            data["duration_us"] / 1e6,
            data["p50_us"] / 1000,
            data["p99_us"] / 1000,
            data["errors"],
        )

    def _run(self, argv: list[str], timeout: float) -> str:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.children.append(proc)
        try:
            out, err = proc.communicate(timeout=timeout)
        finally:
            stop_child(proc, self.children)
        if proc.returncode != 0:
            raise BenchFailed(
                f"load generator failed ({proc.returncode}): {err.strip() or out.strip()}"
            )
        return out


# --------------------------------------------------------------------------------------------
# Full and bare in turn


class Rated(Protocol):
    @property
    def per_s(self) -> float: ...


R = TypeVar("R", bound=Rated)


def best_alternating(
    measure: Callable[[str, float], R],
    seconds: float,
    rounds: int,
    label: str,
    describe: Callable[[R], str],
) -> tuple[R, R]:
    """Warm both apps up (connections in the pools, code paths), then `measure(kind, seconds)`
    them in turn (full, bare, full, bare, ...) so that a shared machine's noise falls on both;
    each round printed; the best round of full and of bare, by rate."""
    for kind in KINDS:
        measure(kind, min(2.0, seconds))
    results: dict[str, list[R]] = {kind: [] for kind in KINDS}
    for i in range(rounds):
        for kind in KINDS:
            result = measure(kind, seconds)
            results[kind].append(result)
            print(f"  {label:<10} round {i + 1} {kind}: {describe(result)}", flush=True)
    full, bare = (max(results[kind], key=lambda r: r.per_s) for kind in KINDS)
    return full, bare
