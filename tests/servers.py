"""Real processes for end-to-end tests: the `moviie` command on a free loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def moviie_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOVIIE_")}
    env.update(
        MOVIIE_DATABASE_URL=database_url,
        MOVIIE_DATA_DIR=str(data_dir),
        MOVIIE_LOG_FORMAT="json",
        MOVIIE_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def run_moviie(
    args: Sequence[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moviie", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class PortTaken(RuntimeError):
    pass


@contextmanager
def moviie_server(command: str, env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`moviie serve|api` in a subprocess; yields its base URL once /healthz answers. The port
    is free when picked but bound a moment later: if something took it meanwhile, another."""
    for attempt in range(3):
        try:
            process, base_url = _start_server(command, env, log_path)
            break
        except PortTaken:
            if attempt == 2:
                raise
    try:
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start_server(
    command: str, env: dict[str, str], log_path: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moviie", command, "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            output = log_path.read_text()
            if "address already in use" in output.lower():
                raise PortTaken(output[-500:])
            raise RuntimeError(f"moviie {command} exited: {output[-2000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(f"moviie {command} did not start: {log_path.read_text()[-2000:]}")
        time.sleep(0.1)


@contextmanager
def worker(
    env: dict[str, str], executor_id: str, log: Path, queues: str = "maintenance"
) -> Iterator[subprocess.Popen[bytes]]:
    """`moviie worker` on `queues` (comma-separated) under its own executor id."""
    with log.open("a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moviie", "worker", "--queues", queues],
            env={**env, "MOVIIE_EXECUTOR_ID": executor_id},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def create_account(env: dict[str, str], name: str) -> dict[str, Any]:
    """`moviie accounts create --json` for a fresh email: the account and its two keys."""
    made = run_moviie(
        ["accounts", "create", "--email", f"{name}@example.test", "--name", name, "--json"], env
    )
    assert made.returncode == 0, made.stderr
    created: dict[str, Any] = json.loads(made.stdout)
    return created
