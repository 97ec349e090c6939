"""Deliveries to a real receiver over loopback: signatures both ways, retries with quadratic
backoff, Retry-After, 410, redirects, rotation, subscriptions, the log, retry and replay."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from moviie.accounts.service import NewAccount
from moviie.db.models import WebhookEndpoint
from moviie.net.guard import guarded_client
from moviie.webhooks.sender import post
from tests.conftest import bearer, make_account
from tests.media.clips import video
from tests.webhooks.receiver import Answer, Received, Receiver

pytestmark = pytest.mark.timeout(120)


async def _endpoint(
    client: httpx.AsyncClient, key: str, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    if events is not None:
        body["events"] = events
    created = await client.post("/v1/webhooks", json=body, headers=bearer(key))
    assert created.status_code == 201, created.text
    return dict(created.json())


async def _new_video(client: httpx.AsyncClient, key: str, **fields: str) -> str:
    """A reserved upload: emits `video.created`."""
    made = await client.post("/v1/videos/uploads/reserve", json=fields, headers=bearer(key))
    assert made.status_code == 201, made.text
    return str(made.json()["video"]["id"])


def _verify_both_ways(delivery: Received, secret: str) -> None:
    expected = "sha256=" + hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert expected in [s.strip() for s in delivery.headers["X-Moviie-Signature"].split(",")]
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    Webhook(secret).verify(delivery.body, headers)  # raises on a bad signature


async def _delivery_log(client: httpx.AsyncClient, key: str, endpoint_id: str) -> list[Any]:
    page = await client.get(f"/v1/webhooks/{endpoint_id}/deliveries", headers=bearer(key))
    assert page.status_code == 200, page.text
    return list(page.json()["data"])


async def _settled(client: httpx.AsyncClient, key: str, endpoint_id: str, n: int) -> list[Any]:
    """The log once `n` deliveries have finished (succeeded or failed)."""
    for _ in range(600):
        log = await _delivery_log(client, key, endpoint_id)
        if sum(d["status"] in ("succeeded", "failed") for d in log) >= n:
            return log
        await asyncio.sleep(0.05)
    raise AssertionError(f"deliveries never settled: {log}")


async def test_subscribed_endpoints_get_signed_events_and_others_nothing(
    hooks_app: FastAPI, hooks_client: httpx.AsyncClient, account: NewAccount, receiver: Receiver
) -> None:
    key = account.private_key
    everything = await _endpoint(hooks_client, key, receiver.script("/all"))
    only_ready = await _endpoint(hooks_client, key, receiver.script("/ready"), ["video.ready"])
    other = await make_account(hooks_app.state.db)
    theirs = await _endpoint(hooks_client, other.private_key, receiver.script("/theirs"))
    video_id = await _new_video(hooks_client, key, reference_id="lesson-1")

    [got] = await receiver.arrived("/all", 1)
    _verify_both_ways(got, everything["secret"])
    assert got.json["event"] == "video.created"
    assert got.json["data"]["id"] == video_id
    assert got.json["data"]["reference_id"] == "lesson-1"
    assert got.json["id"].startswith("evt_")
    assert got.headers["webhook-id"] == got.json["id"]
    assert got.headers["X-Moviie-Attempt"] == "1"
    assert got.headers["X-Moviie-Event"] == "video.created"
    assert got.headers["X-Moviie-Delivery"].startswith("dlv_")
    assert got.headers["Content-Type"] == "application/json"
    with pytest.raises(Exception):  # noqa: B017 - any verification failure
        Webhook(theirs["secret"]).verify(got.body, {k.lower(): v for k, v in got.headers.items()})
    tampered = got.body.replace(b"video.created", b"video.deleted")
    with pytest.raises(Exception):  # noqa: B017
        Webhook(everything["secret"]).verify(
            tampered, {k.lower(): v for k, v in got.headers.items()}
        )
    await asyncio.sleep(0.5)
    assert receiver.at("/ready") == []  # not subscribed to video.created
    assert receiver.at("/theirs") == []  # another account's endpoint
    log = await _settled(hooks_client, key, everything["id"], 1)
    assert log[0]["status"] == "succeeded"
    assert log[0]["attempts"][0]["status_code"] == 200
    assert log[0]["attempts"][0]["response_excerpt"] == "ok"
    assert only_ready["id"]


@pytest.mark.parametrize("hooks_app", [1.0], indirect=True)
async def test_a_failing_receiver_gets_attempts_with_quadratic_backoff(
    hooks_client: httpx.AsyncClient, account: NewAccount, receiver: Receiver
) -> None:
    key = account.private_key
    url = receiver.script(
        "/flaky", Answer(500, b"boom"), Answer(502, b"x" * 5000), Answer(200, b"fine")
    )
    endpoint = await _endpoint(hooks_client, key, url)
    await _new_video(hooks_client, key)
    first, second, third = await receiver.arrived("/flaky", 3, timeout_s=30)
    assert [r.headers["X-Moviie-Attempt"] for r in (first, second, third)] == ["1", "2", "3"]
    assert len({r.headers["webhook-id"] for r in (first, second, third)}) == 1
    assert len({r.body for r in (first, second, third)}) == 1  # the same bytes every time
    for attempt in (first, second, third):
        _verify_both_ways(attempt, endpoint["secret"])
    assert 1.0 <= second.at - first.at < 4.0  # base x 1^2
    assert 4.0 <= third.at - second.at < 7.0  # base x 2^2 (not base x 1^2 again, nor x 3^2)
    await asyncio.sleep(1.5)
    assert len(receiver.at("/flaky")) == 3  # success ends it
    [delivery] = await _settled(hooks_client, key, endpoint["id"], 1)
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 502, 200]
    assert [a["error"] for a in delivery["attempts"]] == ["http_error", "http_error", None]
    assert len(delivery["attempts"][1]["response_excerpt"]) == 1024  # 1 KB of it, no more


async def test_six_attempts_then_failed_and_retry_after_is_honoured(
    hooks_client: httpx.AsyncClient, account: NewAccount, receiver: Receiver
) -> None:
    key = account.private_key
    down = await _endpoint(hooks_client, key, receiver.script("/down", Answer(503)))
    await _new_video(hooks_client, key)
    got = await receiver.arrived("/down", 6, timeout_s=30)
    assert [r.headers["X-Moviie-Attempt"] for r in got] == ["1", "2", "3", "4", "5", "6"]
    [delivery] = await _settled(hooks_client, key, down["id"], 1)
    assert delivery["status"] == "failed"
    assert len(delivery["attempts"]) == 6
    await asyncio.sleep(0.5)
    assert len(receiver.at("/down")) == 6  # never a 7th

    slow = receiver.script("/later", Answer(503, headers={"Retry-After": "2"}), Answer(200))
    await _endpoint(hooks_client, key, slow)
    await _new_video(hooks_client, key)
    first, second = await receiver.arrived("/later", 2, timeout_s=15)
    assert second.at - first.at >= 2.0  # not base x 1^2 = 0.2 s: the receiver asked for 2 s


async def test_410_disables_the_endpoint_and_tells_the_others(
    hooks_client: httpx.AsyncClient, account: NewAccount, receiver: Receiver
) -> None:
    key = account.private_key
    gone = await _endpoint(hooks_client, key, receiver.script("/gone", Answer(410)))
    watcher = await _endpoint(hooks_client, key, receiver.script("/watch"), ["webhook.disabled"])
    await _new_video(hooks_client, key)
    await receiver.arrived("/gone", 1)
    [notice] = await receiver.arrived("/watch", 1)
    _verify_both_ways(notice, watcher["secret"])
    assert notice.json["event"] == "webhook.disabled"
    assert notice.json["data"] == {"endpoint_id": gone["id"], "url": gone["url"], "reason": "gone"}
    state = (await hooks_client.get(f"/v1/webhooks/{gone['id']}", headers=bearer(key))).json()
    assert (state["enabled"], state["disabled_reason"]) == (False, "gone")
    await _new_video(hooks_client, key)
    await asyncio.sleep(0.5)
    assert len(receiver.at("/gone")) == 1  # a disabled endpoint gets nothing more


async def test_redirects_are_not_followed(
    hooks_client: httpx.AsyncClient, account: NewAccount, receiver: Receiver
) -> None:
    key = account.private_key
    target = receiver.script("/target")
    hop = receiver.script("/hop", Answer(302, headers={"Location": target}))
    endpoint = await _endpoint(hooks_client, key, hop)
    await _new_video(hooks_client, key)
    await receiver.arrived("/hop", 2, timeout_s=10)
    assert receiver.at("/target") == []
    log = await _delivery_log(hooks_client, key, endpoint["id"])
    assert log[0]["attempts"][0]["error"] == "redirect"
    assert log[0]["attempts"][0]["status_code"] == 302


async def test_during_a_rotation_both_secrets_verify(
    hooks_client: httpx.AsyncClient, account: NewAccount, receiver: Receiver
) -> None:
    key = account.private_key
    endpoint = await _endpoint(hooks_client, key, receiver.script("/rot"))
    rotated = (
        await hooks_client.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret", headers=bearer(key))
    ).json()
    expires = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)
    await _new_video(hooks_client, key)
    [got] = await receiver.arrived("/rot", 1)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    _verify_both_ways(got, rotated["secret"])
    _verify_both_ways(got, endpoint["secret"])


async def test_test_events_retry_and_replay(
    hooks_client: httpx.AsyncClient, account: NewAccount, receiver: Receiver
) -> None:
    key = account.private_key
    url = receiver.script("/replay", Answer(500))
    endpoint = await _endpoint(hooks_client, key, url)
    bystander = await _endpoint(hooks_client, key, receiver.script("/bystander"))
    since = datetime.now(UTC) - timedelta(seconds=1)
    for _ in range(3):
        await _new_video(hooks_client, key)
    log = await _settled(hooks_client, key, endpoint["id"], 3)
    assert {d["status"] for d in log} == {"failed"}

    receiver.script("/replay", Answer(200))  # the receiver is fixed
    ok_video = await _new_video(hooks_client, key)  # delivered fine: not replayed
    await _settled(hooks_client, key, endpoint["id"], 4)
    replayed = await hooks_client.post(
        f"/v1/webhooks/{endpoint['id']}/replay",
        json={"since": since.isoformat()},
        headers=bearer(key),
    )
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["replayed"] == 3
    log = await _settled(hooks_client, key, endpoint["id"], 7)
    succeeded = [d for d in log if d["status"] == "succeeded"]
    assert len(succeeded) == 4
    failed_events = {d["event_id"] for d in log if d["status"] == "failed"}
    assert {d["event_id"] for d in succeeded} >= failed_events  # exactly those, redelivered
    again = await hooks_client.post(
        f"/v1/webhooks/{endpoint['id']}/replay",
        json={"since": since.isoformat()},
        headers=bearer(key),
    )
    assert again.json()["replayed"] == 0  # nothing failed is left
    assert ok_video

    one = succeeded[0]["id"]
    retried = await hooks_client.post(f"/v1/webhook-deliveries/{one}/retry", headers=bearer(key))
    assert retried.status_code == 202
    assert retried.json()["id"] != one
    assert retried.json()["event_id"] == succeeded[0]["event_id"]
    await _settled(hooks_client, key, endpoint["id"], 8)

    before, seen = len(receiver.at("/bystander")), len(receiver.at("/replay"))
    test = await hooks_client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=bearer(key))
    assert test.status_code == 202
    got = await receiver.arrived("/replay", seen + 1)
    assert got[-1].json["event"] == "webhook.test"
    assert got[-1].json["data"]["endpoint_id"] == endpoint["id"]
    await asyncio.sleep(0.3)
    assert len(receiver.at("/bystander")) == before  # a test goes to its endpoint only
    events = (await hooks_client.get("/v1/events?type=webhook.test", headers=bearer(key))).json()
    assert len(events["data"]) == 1
    per_event = await hooks_client.get(
        f"/v1/events/{events['data'][0]['id']}/deliveries", headers=bearer(key)
    )
    assert [d["endpoint_id"] for d in per_event.json()["data"]] == [endpoint["id"]]
    assert bystander["id"]


async def test_a_slow_endpoint_does_not_hold_up_the_others(
    hooks_client: httpx.AsyncClient, account: NewAccount, receiver: Receiver
) -> None:
    key = account.private_key
    await _endpoint(hooks_client, key, receiver.script("/slow", Answer(200, delay_s=3.0)))
    await _endpoint(hooks_client, key, receiver.script("/fast"))
    for _ in range(12):
        await _new_video(hooks_client, key)
    await receiver.arrived("/fast", 12, timeout_s=20)
    # 12 slow deliveries, 4 at a time per endpoint, 3 s each: a third batch cannot start before
    # 6 s. Had the fast ones waited behind the slow, more than 8 slow would have arrived first.
    assert len(receiver.at("/slow")) <= 8


async def test_the_connect_time_guard_refuses_what_resolves_private(receiver: Receiver) -> None:
    """Checked after DNS, on every connection: a target that passed at creation (or a name
    that re-resolves) is refused when it turns out loopback."""
    url = receiver.script("/guarded").replace("127.0.0.1", "localhost")
    async with guarded_client(allow_private=False, timeout=2) as client:
        result = await post(client, url, b"{}", {}, timeout_s=2)
    assert result.error == "target_not_allowed"
    assert receiver.at("/guarded") == []


async def test_an_endpoint_failing_for_five_days_is_disabled(
    hooks_app: FastAPI, hooks_client: httpx.AsyncClient, account: NewAccount, receiver: Receiver
) -> None:
    key = account.private_key
    broken = await _endpoint(hooks_client, key, receiver.script("/broken", Answer(500)))
    watcher = await _endpoint(hooks_client, key, receiver.script("/w"), ["webhook.disabled"])
    async with hooks_app.state.db.transaction() as session:
        row = await session.get(WebhookEndpoint, broken["id"])
        assert row is not None
        row.failing_since = datetime.now(UTC) - timedelta(days=5, minutes=1)
    await _new_video(hooks_client, key)
    [notice] = await receiver.arrived("/w", 1)
    assert notice.json["data"]["reason"] == "failing_for_5_days"
    state = (await hooks_client.get(f"/v1/webhooks/{broken['id']}", headers=bearer(key))).json()
    assert (state["enabled"], state["disabled_reason"]) == (False, "failing_for_5_days")
    await asyncio.sleep(1.0)
    assert len(receiver.at("/broken")) == 1  # no retries once disabled
    [delivery] = await _delivery_log(hooks_client, key, broken["id"])
    assert delivery["status"] == "failed"
    assert watcher["id"]

    # A success clears the clock: re-enabled, it starts afresh.
    receiver.script("/broken", Answer(200))
    enabled = await hooks_client.patch(
        f"/v1/webhooks/{broken['id']}", json={"enabled": True}, headers=bearer(key)
    )
    assert enabled.json()["failing_since"] is None


async def test_video_ready_arrives_with_what_a_backend_needs(
    hooks_client: httpx.AsyncClient, account: NewAccount, receiver: Receiver, tmp_path: Path
) -> None:
    key = account.private_key
    hook = await _endpoint(hooks_client, key, receiver.script("/ready"), ["video.ready"])
    clip = video(tmp_path / "c.mp4", size="320x240", seconds=1)
    files = {"file": ("c.mp4", clip.read_bytes(), "video/mp4")}
    made = await hooks_client.post(
        "/v1/videos", headers=bearer(key), files=files, data={"reference_id": "ref-9"}
    )
    assert made.status_code == 201, made.text
    [got] = await receiver.arrived("/ready", 1, timeout_s=60)
    _verify_both_ways(got, hook["secret"])
    data = got.json["data"]
    assert (data["id"], data["reference_id"], data["status"]) == (
        made.json()["id"],
        "ref-9",
        "ready",
    )
    assert data["embed"].endswith(f"/embed/{data['id']}")
    assert data["playback"]["hls"].endswith("/hls/master.m3u8")
