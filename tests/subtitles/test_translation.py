"""A translated track through an OpenAI-compatible chat API. The provider here is a small local
HTTP server that answers as the API does (numbered lines in, the same numbers out): what is
tested is Moviie's side of that contract, timings kept and lines rewrapped."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from moviie.app import create_app
from moviie.jobs.queues import QUEUES
from moviie.subtitles.formats import parse
from tests.conftest import bearer, make_account, make_settings
from tests.media.flow import ready
from tests.subtitles.jobs import finished, path_of
from tests.subtitles.speech import Speech

pytestmark = pytest.mark.timeout(300)


class Provider(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Provider.requests.append({"path": self.path, "auth": self.headers.get("Authorization")})
        lines = body["messages"][-1]["content"].splitlines()
        answer = "\n".join(re.sub(r"^(\d+)\. (.*)$", r"\1. [fr] \2", line) for line in lines)
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": answer}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Provider.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()


async def test_a_translated_track_keeps_the_timings(
    database_url: str, tmp_path: Path, provider: str, speech: Speech
) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        queue_polling_interval_s=0.1,
        llm_base_url=provider,
        llm_api_key="sk-test",
    )
    app = create_app(settings, worker_queues=QUEUES)
    async with app.router.lifespan_context(app):
        account = await make_account(app.state.db)
        key = account.private_key
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
            video = await ready(client, key, speech.path)
            asked = await client.post(
                f"/v1/videos/{video['id']}/subtitles",
                json={"language": "en", "translate_to": "fr"},
                headers=bearer(key),
            )
            assert asked.status_code == 202, asked.text
            assert asked.json()["credits"]["charged"] == 2  # 1 a minute, and 1 to translate
            done, _ = await finished(client, key, asked.json()["id"])
            assert done["status"] == "succeeded", done
            english, french = done["result"]["tracks"]
            assert (english["language"], french["language"]) == ("en", "fr")
            assert french["source"] == "translated"
            source = parse((await client.get(path_of(english["vtt"]))).content)
            target = parse((await client.get(path_of(french["vtt"]))).content)
    assert [(c.start, c.end) for c in target] == [(c.start, c.end) for c in source]
    assert all(c.text.startswith("[fr] ") for c in target)
    assert Provider.requests
    assert {r["path"] for r in Provider.requests} == {"/v1/chat/completions"}
    assert {r["auth"] for r in Provider.requests} == {"Bearer sk-test"}
