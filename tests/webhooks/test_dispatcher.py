"""The dispatcher's own guarantees: several dispatchers on one database send each attempt once,
and a delivery that cannot be signed is logged as failed without stalling any other."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from moviie.accounts.service import NewAccount
from moviie.db.models import WebhookEndpoint
from moviie.net.guard import guarded_client
from moviie.webhooks.dispatcher import Dispatcher
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_delivery import _endpoint, _new_video, _settled, _verify_both_ways

pytestmark = pytest.mark.timeout(120)


async def test_two_dispatchers_on_one_database_send_each_attempt_once(
    hooks_app: FastAPI, hooks_client: httpx.AsyncClient, account: NewAccount, receiver: Receiver
) -> None:
    key = account.private_key
    endpoints = [await _endpoint(hooks_client, key, receiver.script(f"/e{i}")) for i in range(3)]
    settings = hooks_app.state.settings
    async with guarded_client(allow_private=True, timeout=2) as client:
        second = Dispatcher(settings, hooks_app.state.db, client)
        await second.start()
        try:
            await asyncio.gather(*(_new_video(hooks_client, key) for _ in range(20)))
            for i in range(3):
                await receiver.arrived(f"/e{i}", 20)
            await asyncio.sleep(1.0)  # room for a duplicate to show up
        finally:
            await second.stop(grace_s=5)
    for i, endpoint in enumerate(endpoints):
        got = receiver.at(f"/e{i}")
        sent = Counter(r.headers["X-Moviie-Delivery"] for r in got)
        assert len(sent) == 20
        assert set(sent.values()) == {1}, sent
        assert {r.headers["X-Moviie-Attempt"] for r in got} == {"1"}
        log = await _settled(hooks_client, key, endpoint["id"], 20)
        assert {d["status"] for d in log} == {"succeeded"}
        assert {len(d["attempts"]) for d in log} == {1}


async def test_a_secret_that_does_not_open_fails_its_delivery_and_stalls_no_other(
    hooks_app: FastAPI, hooks_client: httpx.AsyncClient, account: NewAccount, receiver: Receiver
) -> None:
    """As after MOVIIE_SECRET_KEY changed under an endpoint: its attempts are logged as
    `secret_unreadable` and retried on the schedule; the other endpoints are served; rotating
    the endpoint's secret mends it (the old one, unreadable, is left out of the signatures)."""
    key = account.private_key
    broken = await _endpoint(hooks_client, key, receiver.script("/broken"))
    await _endpoint(hooks_client, key, receiver.script("/fine"))
    async with hooks_app.state.db.transaction() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == broken["id"])
            .values(secret_encrypted="gAAAAAB-not-a-token-of-this-server")
        )
    for _ in range(3):
        await _new_video(hooks_client, key)
    await receiver.arrived("/fine", 3)
    for _ in range(200):
        log = await hooks_client.get(
            f"/v1/webhooks/{broken['id']}/deliveries",
            headers={"Authorization": f"Bearer {key}"},
        )
        deliveries = log.json()["data"]
        if len(deliveries) == 3 and all(d["attempts"] for d in deliveries):
            break
        await asyncio.sleep(0.05)
    for delivery in deliveries:
        assert delivery["status"] in ("retrying", "failed")
        assert delivery["attempts"][0]["error"] == "secret_unreadable"
        assert delivery["attempts"][0]["status_code"] is None
    assert receiver.at("/broken") == []

    rotated = await hooks_client.post(
        f"/v1/webhooks/{broken['id']}/rotate-secret", headers={"Authorization": f"Bearer {key}"}
    )
    assert rotated.status_code == 200, rotated.text
    retried = await hooks_client.post(
        f"/v1/webhook-deliveries/{deliveries[0]['id']}/retry",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert retried.status_code in (200, 201, 202), retried.text
    [got] = await receiver.arrived("/broken", 1)
    _verify_both_ways(got, rotated.json()["secret"])
    assert "," not in got.headers["X-Moviie-Signature"]  # one signature: the new secret's
