"""A local server that speaks the documented provider shapes (docs/dubbing.md): chat (each
numbered line answered as "hola <line>"), speech with voice creation, and lip sync (202, then
the MP4 when polled). It really synthesizes (espeak-ng)
and really muxes (ffmpeg); each path can be scripted to fail first (429, 500, or hang)."""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.media.clips import FFMPEG


@dataclass
class Script:
    """What the server does, per path, before answering well: "429", "500" or "hang"."""

    failures: dict[str, list[str]] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    references: list[bytes] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    lipsync_inputs: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0


def _form(handler: BaseHTTPRequestHandler, body: bytes) -> dict[str, bytes]:
    head = f"Content-Type: {handler.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=default).parsebytes(head + body)
    return {
        str(part.get_param("name", header="content-disposition")): part.get_payload(decode=True)
        for part in message.iter_parts()
    }


def _say(text: str, language: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "s.wav"
        subprocess.run(["espeak-ng", "-v", language, "-w", str(out), text], check=True, timeout=60)
        return out.read_bytes()


def _mux(video: bytes, audio: bytes) -> bytes:
    """The "lip-synced" video: the picture with the new sound (the part a provider adds to the
    pixels is not ours to test; its HTTP shape is)."""
    with tempfile.TemporaryDirectory() as folder:
        v, a, out = Path(folder) / "v.mp4", Path(folder) / "a.m4a", Path(folder) / "o.mp4"
        v.write_bytes(video)
        a.write_bytes(audio)
        subprocess.run(
            [FFMPEG, "-v", "error", "-i", str(v), "-i", str(a), "-map", "0:v:0", "-map", "1:a:0",
             "-c", "copy", "-movflags", "+faststart", str(out)],
            check=True, timeout=120,
        )  # fmt: skip
        return out.read_bytes()


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    results: dict[str, bytes] = {}

    class Provider(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, body: bytes = b"", kind: str = "application/json",
                    headers: dict[str, str] | None = None) -> None:  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _failed(self, path: str) -> bool:
            pending = script.failures.get(path, [])
            if not pending:
                return False
            failure = pending.pop(0)
            if failure == "hang":
                time.sleep(8)  # past the client's timeout (5 s)
                return True
            status = int(failure)
            self._answer(status, b'{"error":"scripted"}', headers={"Retry-After": "0"})
            return True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            script.seen.append(("POST", self.path))
            if self._failed(self.path):
                return
            if self.path == "/v1/voices":
                script.references.append(_form(self, body)["file"])
                self._answer(201, json.dumps({"id": "voice_1"}).encode())
            elif self.path == "/v1/audio/speech":
                asked = json.loads(body)
                assert asked["voice"] == "voice_1"
                assert asked["response_format"] == "wav"
                self._answer(200, _say(asked["input"], asked["language"]), "audio/wav")
            elif self.path == "/v1/chat/completions":
                lines = json.loads(body)["messages"][-1]["content"].splitlines()
                answer = "\n".join(
                    f"{number}. hola {text}" for number, text in (ln.split(". ", 1) for ln in lines)
                )
                reply = {"choices": [{"message": {"role": "assistant", "content": answer}}]}
                self._answer(200, json.dumps(reply).encode())
            elif self.path == "/lipsync":
                form = _form(self, body)
                script.lipsync_inputs.append({"language": form["language"].decode()})
                results["1"] = _mux(form["video"], form["audio"])
                self._answer(
                    202, b"{}", headers={"Location": "/lipsync/jobs/1", "Retry-After": "0"}
                )
            else:
                self._answer(404)

        def do_GET(self) -> None:
            script.seen.append(("GET", self.path))
            if self.path == "/lipsync/jobs/1":
                script.polls += 1
                if script.polls < 2:
                    self._answer(202, b"{}", headers={"Location": self.path, "Retry-After": "0"})
                else:
                    self._answer(200, results["1"], "video/mp4")
            else:
                self._answer(404)

        def do_DELETE(self) -> None:
            script.seen.append(("DELETE", self.path))
            script.deleted.append(self.path.rsplit("/", 1)[-1])
            self._answer(204)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Provider


@contextmanager
def provider(script: Script) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def wav_facts(data: bytes) -> tuple[int, int, float]:
    """(channels, rate, seconds) of a WAV."""
    with wave.open(io.BytesIO(data)) as file:
        return file.getnchannels(), file.getframerate(), file.getnframes() / file.getframerate()
