"""Property-based requests against a real server, from its own OpenAPI: never a 5xx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import create_account, moviie_env, moviie_server

pytestmark = pytest.mark.slow


def test_generated_requests_never_get_a_server_error(database_url: str, tmp_path: Path) -> None:
    # A fuzzer is a flood by design: the budget must not turn its requests into 429s.
    env = moviie_env(database_url, tmp_path, MOVIIE_RATE_LIMIT_PER_MINUTE="1000000")
    key = create_account(env, f"s-{tmp_path.name}")["private_key"]
    with moviie_server("api", env, tmp_path / "server.log") as base_url:
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{base_url}/v1/openapi.json",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,"
                "response_schema_conformance",
                "--header",
                f"Authorization: Bearer {key}",
                "--max-examples",
                "30",
                "--seed",
                "20261204",
                "--workers",
                "1",
                "--request-timeout",
                "10",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    output = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    assert "❌" not in result.stdout, output
    (tmp_path / "schemathesis.txt").write_text(result.stdout)
    assert "Authentication failed" not in result.stdout, output
