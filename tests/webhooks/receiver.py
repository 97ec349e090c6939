"""A real HTTP server that receives webhook deliveries, records them and answers as told."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class Receiver:
    """Answers per path: a script of answers used in order (the last one repeats)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.scripts: dict[str, list[Answer]] = {}
        self.lock = threading.Lock()
        self.base_url = ""

    def script(self, path: str, *answers: Answer) -> str:
        self.scripts[path] = list(answers)
        return self.base_url + path

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int, timeout_s: float = 30) -> list[Received]:
        """Blocking: for tests whose workers run in other processes."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = self.at(path)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{path}: {len(self.at(path))} of {count} deliveries arrived")

    async def arrived(self, path: str, count: int, timeout_s: float = 30) -> list[Received]:
        """Waits without blocking the event loop (in-process workers run on it)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = self.at(path)
            if len(got) >= count:
                return got
            await asyncio.sleep(0.02)
        raise AssertionError(f"{path}: {len(self.at(path))} of {count} deliveries arrived")

    def _answer(self, path: str) -> Answer:
        with self.lock:
            script = self.scripts.get(path, [])
            if len(script) > 1:
                return script.pop(0)
            return script[0] if script else Answer()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, dict(self.headers.items()), body, time.monotonic())
                )
            answer = receiver._answer(self.path)
            if answer.delay_s:
                time.sleep(answer.delay_s)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
