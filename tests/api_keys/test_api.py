from __future__ import annotations

import asyncio
import hashlib

import httpx
from sqlalchemy import func, select

from moviie.accounts.service import NewAccount
from moviie.db.engine import Database
from moviie.db.models import ApiKey
from tests.conftest import bearer, make_account


async def _count_keys(db: Database, account_id: str) -> int:
    async with db.transaction(write=False) as session:
        stmt = select(func.count()).select_from(ApiKey).where(ApiKey.account_id == account_id)
        return int(await session.scalar(stmt) or 0)


async def test_a_created_key_is_shown_once_and_works(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    response = await client.post(
        "/v1/api-keys", json={"name": "ci"}, headers=bearer(account.private_key)
    )
    assert response.status_code == 201
    created = response.json()
    assert created["key"].startswith("mvi_live_")
    assert created["id"].startswith("key_")
    assert created["scopes"] is None
    assert (await client.get("/v1/me", headers=bearer(created["key"]))).status_code == 200

    listed = (await client.get("/v1/api-keys", headers=bearer(account.private_key))).json()
    entry = next(k for k in listed["data"] if k["id"] == created["id"])
    assert "key" not in entry
    assert entry["last4"] == created["key"][-4:]
    assert created["key"].startswith(entry["prefix"])

    async with db.transaction(write=False) as session:
        row = await session.get(ApiKey, created["id"])
    assert row is not None
    assert created["key"] not in (row.secret_hash, row.selector)
    assert row.secret_hash == hashlib.sha256(created["key"].encode()).hexdigest()


async def test_a_revoked_key_stops_working_at_once(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    created = (
        await client.post("/v1/api-keys", json={"name": "tmp"}, headers=bearer(account.private_key))
    ).json()
    assert (await client.get("/v1/me", headers=bearer(created["key"]))).status_code == 200
    response = await client.delete(
        f"/v1/api-keys/{created['id']}", headers=bearer(account.private_key)
    )
    assert response.status_code == 204
    response = await client.get("/v1/me", headers=bearer(created["key"]))
    assert response.status_code == 401
    again = await client.delete(
        f"/v1/api-keys/{created['id']}", headers=bearer(account.private_key)
    )
    assert again.status_code == 404
    assert again.json()["code"] == "api_key_not_found"


async def test_another_accounts_key_is_404_and_untouched(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    other = await make_account(db)
    other_key_id = (await client.get("/v1/api-keys", headers=bearer(other.private_key))).json()[
        "data"
    ][0]["id"]
    response = await client.delete(
        f"/v1/api-keys/{other_key_id}", headers=bearer(account.private_key)
    )
    assert response.status_code == 404
    assert response.json()["code"] == "api_key_not_found"
    listed = (await client.get("/v1/api-keys", headers=bearer(account.private_key))).json()
    assert other_key_id not in [k["id"] for k in listed["data"]]
    assert (await client.get("/v1/me", headers=bearer(other.private_key))).status_code == 200


async def test_scopes_restrict_a_key(client: httpx.AsyncClient, account: NewAccount) -> None:
    limited = (
        await client.post(
            "/v1/api-keys",
            json={"name": "reader", "scopes": ["videos:read"]},
            headers=bearer(account.private_key),
        )
    ).json()
    assert limited["scopes"] == ["videos:read"]
    response = await client.post("/v1/api-keys", json={"name": "x"}, headers=bearer(limited["key"]))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert (await client.get("/v1/me", headers=bearer(limited["key"]))).status_code == 200


async def test_unknown_scopes_and_fields_are_422_and_nothing_is_written(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    before = await _count_keys(db, account.account.id)
    for body in (
        {"name": "x", "scopes": ["everything"]},
        {"name": "x", "colour": "blue"},
        {"name": ""},
        {},
        {"name": "x", "type": "publishable", "scopes": ["videos:read"]},
    ):
        response = await client.post("/v1/api-keys", json=body, headers=bearer(account.private_key))
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_failed"
    assert await _count_keys(db, account.account.id) == before


async def test_publishable_keys_only_play(client: httpx.AsyncClient, account: NewAccount) -> None:
    created = (
        await client.post(
            "/v1/api-keys",
            json={"name": "web", "type": "publishable"},
            headers=bearer(account.private_key),
        )
    ).json()
    assert created["key"].startswith("mvi_pub_")
    for method, path in (("GET", "/v1/api-keys"), ("GET", "/v1/me")):
        response = await client.request(method, path, headers=bearer(created["key"]))
        assert response.status_code == 403
        assert response.json()["code"] == "insufficient_scope"


async def test_listing_pages_with_a_stable_cursor(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    for i in range(5):
        await client.post(
            "/v1/api-keys", json={"name": f"k{i}"}, headers=bearer(account.private_key)
        )
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get("/v1/api-keys", params=params, headers=bearer(account.private_key))
        ).json()
        seen += [k["id"] for k in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
        # a key created mid-listing does not shift the pages still to come
        await client.post(
            "/v1/api-keys", json={"name": "late"}, headers=bearer(account.private_key)
        )
    assert len(seen) == 7  # 5 + the two default keys
    assert seen == sorted(seen, reverse=True)
    assert len(set(seen)) == len(seen)


async def test_last_used_at_is_kept_without_a_write_per_request(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    headers = bearer(account.private_key)
    for _ in range(3):
        await client.get("/v1/me", headers=headers)

    async def stamps() -> list[str]:
        listed = (await client.get("/v1/api-keys", headers=headers)).json()
        return [k["last_used_at"] for k in listed["data"] if k["last_used_at"]]

    for _ in range(50):  # the stamp is written in the background, off the request's path
        if await stamps():
            break
        await asyncio.sleep(0.02)
    first = await stamps()
    assert len(first) == 1
    await client.get("/v1/me", headers=headers)
    await asyncio.sleep(0.1)
    assert await stamps() == first  # within a minute, a use writes nothing
