"""SIGKILL of a worker: while a delivery waits for its next attempt, the attempt still comes, at
its planned time, once (the wait is a time in the delivery's row, not a sleeping worker); while
an attempt is in flight, it is sent again once its lease lapses, and logged once."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import create_account, moviie_env, moviie_server, worker
from tests.webhooks.receiver import Answer, Receiver

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
BASE_S = 8.0  # room for the second worker to start (imports, ~2 s) on a loaded machine


def test_a_killed_worker_still_makes_the_next_attempt_on_time_once(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    env = moviie_env(
        database_url,
        tmp_path / "data",
        MOVIIE_QUEUE_POLLING_INTERVAL_S="0.1",
        MOVIIE_WORKER_HEARTBEAT_S="0.5",
        MOVIIE_WORKER_DEAD_AFTER_S="2",
        MOVIIE_MAINTENANCE_SCHEDULES="false",
        MOVIIE_WEBHOOKS_ALLOW_PRIVATE="true",
        MOVIIE_WEBHOOK_RETRY_BASE_S=str(BASE_S),
    )
    created = create_account(env, f"w-{tmp_path.name}")
    headers = {"Authorization": f"Bearer {created['private_key']}"}
    url = receiver.script("/hook", Answer(500), Answer(200))
    log = tmp_path / "workers.log"
    with moviie_server("api", env, tmp_path / "api.log") as base:
        made = httpx.post(f"{base}/v1/webhooks", json={"url": url}, headers=headers)
        assert made.status_code == 201
        deliveries = f"{base}/v1/webhooks/{made.json()['id']}/deliveries"
        with worker(env, "first", log, queues="webhooks") as first:
            reserved = httpx.post(f"{base}/v1/videos/uploads/reserve", json={}, headers=headers)
            assert reserved.status_code == 201
            [attempt1] = receiver.wait_for("/hook", 1, timeout_s=30)
            _wait_until_logged(deliveries, headers)  # failure recorded, attempt 2 planned
            first.send_signal(signal.SIGKILL)
            first.wait()
        with worker(env, "second", log, queues="webhooks"):
            _, attempt2 = receiver.wait_for("/hook", 2, timeout_s=30)
            time.sleep(BASE_S + 1)  # room for a duplicate to show up
        assert len(receiver.at("/hook")) == 2
    assert attempt2.headers["X-Moviie-Attempt"] == "2"
    assert attempt2.headers["webhook-id"] == attempt1.headers["webhook-id"]
    gap = attempt2.at - attempt1.at
    assert BASE_S <= gap < BASE_S + 2.5, gap  # at its planned time: base x 1^2 after the first


def _wait_until_logged(deliveries_url: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page = httpx.get(deliveries_url, headers=headers).json()["data"]
        if page and page[0]["attempts"]:
            return
        time.sleep(0.1)
    raise AssertionError("attempt 1 was never logged")


def test_an_attempt_cut_by_a_killed_worker_is_taken_up_when_its_lease_lapses(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    """SIGKILL while the POST is in flight: the attempt is neither lost nor logged twice; once
    its lease lapses (5 x timeout + 5 s), another worker sends it again, as attempt 1."""
    timeout_s = 1.0
    env = moviie_env(
        database_url,
        tmp_path / "data",
        MOVIIE_MAINTENANCE_SCHEDULES="false",
        MOVIIE_WEBHOOKS_ALLOW_PRIVATE="true",
        MOVIIE_WEBHOOK_TIMEOUT_S=str(timeout_s),
        MOVIIE_WEBHOOK_POLLING_INTERVAL_S="0.1",
    )
    created = create_account(env, f"l-{tmp_path.name}")
    headers = {"Authorization": f"Bearer {created['private_key']}"}
    url = receiver.script("/hook", Answer(200, delay_s=5), Answer(200))
    log = tmp_path / "workers.log"
    with moviie_server("api", env, tmp_path / "api.log") as base:
        made = httpx.post(f"{base}/v1/webhooks", json={"url": url}, headers=headers)
        assert made.status_code == 201
        endpoint_id = made.json()["id"]
        with worker(env, "first", log, queues="webhooks") as first:
            reserved = httpx.post(f"{base}/v1/videos/uploads/reserve", json={}, headers=headers)
            assert reserved.status_code == 201
            [cut] = receiver.wait_for("/hook", 1, timeout_s=30)
            first.send_signal(signal.SIGKILL)  # within the POST's 1 s
            first.wait()
        with worker(env, "second", log, queues="webhooks"):
            _, again = receiver.wait_for("/hook", 2, timeout_s=30)
            time.sleep(2)  # room for a duplicate to show up
        assert len(receiver.at("/hook")) == 2
        page = httpx.get(f"{base}/v1/webhooks/{endpoint_id}/deliveries", headers=headers)
    assert again.headers["X-Moviie-Attempt"] == "1"
    assert again.headers["X-Moviie-Delivery"] == cut.headers["X-Moviie-Delivery"]
    assert again.at - cut.at >= 5 * timeout_s + 5 - 1  # not before the lease lapsed
    [delivery] = page.json()["data"]
    assert delivery["status"] == "succeeded"
    assert [a["number"] for a in delivery["attempts"]] == [1]
