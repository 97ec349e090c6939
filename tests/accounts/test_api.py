from __future__ import annotations

import httpx

from moviie.accounts.service import NewAccount
from moviie.db.engine import Database
from tests.conftest import bearer, make_account


async def test_me_shows_the_account_plan_usage_and_credits(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    response = await client.get("/v1/me", headers=bearer(account.private_key))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == account.account.id
    assert body["email"] == account.account.email
    assert body["plan"]["name"] == "trial"
    assert body["plan"]["credits_month"] > 0
    assert body["usage"] == {"storage_bytes": 0, "bandwidth_bytes_month": 0}
    assert body["credits"]["balance"] == body["plan"]["credits_month"]
    assert body["trial_ends_at"] is not None
    assert body["trial_ends_at"].endswith("Z") or body["trial_ends_at"].endswith("+00:00")
    assert response.headers["RateLimit-Limit"] == "600"


async def test_new_accounts_on_a_paid_plan_have_no_trial(
    client: httpx.AsyncClient, db: Database
) -> None:
    created = await make_account(db, plan="starter")
    body = (await client.get("/v1/me", headers=bearer(created.private_key))).json()
    assert body["plan"]["name"] == "starter"
    assert body["trial_ends_at"] is None


async def test_me_without_a_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthenticated"


async def test_malformed_and_unknown_keys_are_401(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    near_miss = account.private_key[:-1] + ("A" if account.private_key[-1] != "A" else "B")
    for header in (
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": account.private_key},
        bearer(near_miss),
        bearer("mvi_live_" + "a" * 44),
        bearer(account.private_key.replace("mvi_live_", "mvi_pub_")),
    ):
        response = await client.get("/v1/me", headers=header)
        assert response.status_code == 401, header
        assert response.json()["code"] == "unauthenticated"


async def test_publishable_key_cannot_read_the_account(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    response = await client.get("/v1/me", headers=bearer(account.publishable_key))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
