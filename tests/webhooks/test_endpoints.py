"""The webhook endpoints API: secrets, validation, SSRF refusals, tenants, the catalog."""

from __future__ import annotations

import base64

import httpx

from moviie.accounts.service import NewAccount
from moviie.db.engine import Database
from moviie.db.models import WebhookEndpoint
from tests.conftest import bearer, make_account
from tests.http.test_errors import assert_problem

HOOK = "https://1.1.1.1/hooks/moviie"  # a public address: no DNS in the tests


async def test_create_list_update_delete(client: httpx.AsyncClient, account: NewAccount) -> None:
    key = bearer(account.private_key)
    created = await client.post(
        "/v1/webhooks", json={"url": HOOK, "events": ["video.ready", "video.failed"]}, headers=key
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 32
    assert body["events"] == ["video.failed", "video.ready"]
    assert body["enabled"] is True
    endpoint_id = body["id"]

    got = (await client.get(f"/v1/webhooks/{endpoint_id}", headers=key)).json()
    assert "secret" not in got  # shown once
    listed = (await client.get("/v1/webhooks", headers=key)).json()
    assert [e["id"] for e in listed["data"]] == [endpoint_id]

    changed = await client.patch(
        f"/v1/webhooks/{endpoint_id}",
        json={"events": ["*"], "enabled": False, "description": "prod"},
        headers=key,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["*"]
    assert changed.json()["disabled_reason"] == "manual"
    enabled = await client.patch(f"/v1/webhooks/{endpoint_id}", json={"enabled": True}, headers=key)
    assert enabled.json()["disabled_reason"] is None

    rotated = await client.post(f"/v1/webhooks/{endpoint_id}/rotate-secret", headers=key)
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (body["secret"], None)

    assert (await client.delete(f"/v1/webhooks/{endpoint_id}", headers=key)).status_code == 204
    assert_problem(
        await client.get(f"/v1/webhooks/{endpoint_id}", headers=key), 404, "webhook_not_found"
    )


async def test_secrets_are_kept_sealed(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    created = await client.post(
        "/v1/webhooks", json={"url": HOOK}, headers=bearer(account.private_key)
    )
    secret = created.json()["secret"]
    async with db.transaction(write=False) as session:
        row = await session.get(WebhookEndpoint, created.json()["id"])
        assert row is not None
        assert secret not in row.secret_encrypted
        assert secret.removeprefix("whsec_") not in row.secret_encrypted


async def test_bad_endpoints_are_refused(client: httpx.AsyncClient, account: NewAccount) -> None:
    key = bearer(account.private_key)
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",  # a name that resolves to loopback
        "http://10.0.0.7/hook",
        "http://192.168.1.2/hook",
        "http://100.64.0.1/hook",  # CGNAT
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://224.0.0.1/hook",
    ):
        refused = await client.post("/v1/webhooks", json={"url": url}, headers=key)
        assert_problem(refused, 422, "target_not_allowed")
    for body in (
        {"url": "ftp://example.com/x"},
        {"url": HOOK, "events": ["video.exploded"]},
        {"url": HOOK, "events": []},
        {"url": HOOK, "secret": "mine"},
    ):
        assert_problem(
            await client.post("/v1/webhooks", json=body, headers=key), 422, "validation_failed"
        )
    assert (await client.get("/v1/webhooks", headers=key)).json()["data"] == []


async def test_another_accounts_endpoint_is_not_found(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    other = await make_account(db)
    theirs = (
        await client.post("/v1/webhooks", json={"url": HOOK}, headers=bearer(other.private_key))
    ).json()["id"]
    mine = bearer(account.private_key)
    for method, path in (
        ("GET", f"/v1/webhooks/{theirs}"),
        ("PATCH", f"/v1/webhooks/{theirs}"),
        ("DELETE", f"/v1/webhooks/{theirs}"),
        ("POST", f"/v1/webhooks/{theirs}/test"),
        ("POST", f"/v1/webhooks/{theirs}/rotate-secret"),
        ("GET", f"/v1/webhooks/{theirs}/deliveries"),
    ):
        kwargs = {"json": {}} if method == "PATCH" else {}
        response = await client.request(method, path, headers=mine, **kwargs)
        assert_problem(response, 404, "webhook_not_found")


async def test_publishable_keys_cannot_manage_webhooks(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    response = await client.get("/v1/webhooks", headers=bearer(account.publishable_key))
    assert response.status_code == 403


async def test_the_catalog_lists_every_event_with_an_example(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    types = (
        await client.get("/v1/webhooks/event-types", headers=bearer(account.private_key))
    ).json()
    names = {t["name"] for t in types}
    for needed in (
        "video.created", "video.uploaded", "video.ready", "video.failed", "video.updated",
        "video.deleted", "subtitles.ready", "subtitles.failed", "reels.ready", "reels.failed",
        "ebook.ready", "ebook.failed", "quiz.ready", "quiz.failed", "lipsync.ready",
        "lipsync.failed", "bandwidth.threshold", "storage.threshold", "credits.low",
        "webhook.test", "webhook.disabled",
    ):  # fmt: skip
        assert needed in names
    assert all(t["description"] and t["example"] for t in types)
    ready = next(t for t in types if t["name"] == "video.ready")
    assert {"id", "reference_id", "embed", "playback"} <= set(ready["example"])
