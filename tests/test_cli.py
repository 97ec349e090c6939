"""The `moviie` command as an operator runs it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import moviie_env, moviie_server, run_moviie


def test_migrate_then_create_an_account_as_one_json_object(
    database_url: str, tmp_path: Path
) -> None:
    env = moviie_env(database_url, tmp_path)
    migrated = run_moviie(["migrate"], env)
    assert migrated.returncode == 0, migrated.stderr
    email = f"cli-{tmp_path.name}@example.test"
    created = run_moviie(["accounts", "create", "--email", email, "--name", "CLI", "--json"], env)
    assert created.returncode == 0, created.stderr
    payload = json.loads(created.stdout)  # exactly one JSON object and nothing else
    assert set(payload) == {"account", "private_key", "publishable_key"}
    assert payload["account"]["email"] == email
    assert payload["private_key"].startswith("mvi_live_")
    assert payload["publishable_key"].startswith("mvi_pub_")

    again = run_moviie(["accounts", "create", "--email", email, "--name", "CLI", "--json"], env)
    assert again.returncode == 1
    assert "exists" in again.stderr

    key = run_moviie(
        ["keys", "create", "--account", email, "--scopes", "videos:read", "--json"], env
    )
    assert key.returncode == 0, key.stderr
    assert json.loads(key.stdout)["scopes"] == ["videos:read"]
    bad = run_moviie(["keys", "create", "--account", "acct_nope", "--json"], env)
    assert bad.returncode == 1
    assert "No account" in bad.stderr


def test_plans_list(tmp_path: Path) -> None:
    listed = run_moviie(["plans", "list", "--json"], moviie_env("sqlite:///unused.db", tmp_path))
    plans = {p["name"]: p for p in json.loads(listed.stdout)}
    assert plans["trial"]["trial_days"] == 14
    assert {"storage_bytes", "bandwidth_bytes_month", "credits_month"} <= set(plans["starter"])


@pytest.mark.slow
def test_serve_on_a_fresh_data_dir_prints_its_url_and_a_working_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    env = moviie_env(f"sqlite:///{data_dir / 'moviie.db'}", data_dir)
    del env["MOVIIE_DATABASE_URL"]  # the embedded default, as a new user gets it
    log = tmp_path / "serve.log"
    with moviie_server("serve", env, log) as base_url:
        deadline = time.monotonic() + 10  # the banner may follow the first answer by a moment
        while f"listening on {base_url}" not in (output := log.read_text()):
            assert time.monotonic() < deadline, output
            time.sleep(0.05)
        key = next(word for word in output.split() if word.startswith("mvi_live_")).strip("'")
        me = httpx.get(f"{base_url}/v1/me", headers={"Authorization": f"Bearer {key}"})
        assert me.status_code == 200
        assert me.json()["email"] == "admin@localhost"
    assert (data_dir / "moviie.db").exists()
