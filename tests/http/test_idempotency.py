from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from moviie.accounts.service import NewAccount
from moviie.db.engine import Database
from moviie.db.models import ApiKey, IdempotencyRecord
from tests.conftest import bearer
from tests.http.test_errors import assert_problem


async def _counts(db: Database, account_id: str) -> tuple[int, int]:
    async with db.transaction(write=False) as session:
        keys = await session.scalar(
            select(func.count()).select_from(ApiKey).where(ApiKey.account_id == account_id)
        )
        records = await session.scalar(select(func.count()).select_from(IdempotencyRecord))
    return int(keys or 0), int(records or 0)


async def test_same_key_same_body_replays_the_first_response(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    headers = {**bearer(account.private_key), "Idempotency-Key": "create-ci-key-1"}
    first = await client.post("/v1/api-keys", json={"name": "ci"}, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    keys_after_first, _ = await _counts(db, account.account.id)

    second = await client.post("/v1/api-keys", json={"name": "ci"}, headers=headers)
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert (await _counts(db, account.account.id))[0] == keys_after_first


async def test_same_key_other_body_is_409(client: httpx.AsyncClient, account: NewAccount) -> None:
    headers = {**bearer(account.private_key), "Idempotency-Key": "k-409"}
    assert (
        await client.post("/v1/api-keys", json={"name": "a"}, headers=headers)
    ).status_code == 201
    response = await client.post("/v1/api-keys", json={"name": "b"}, headers=headers)
    assert_problem(response, 409, "idempotency_key_reused")


async def test_keys_are_scoped_to_the_caller(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    from tests.conftest import make_account

    other = await make_account(db)
    shared = {"Idempotency-Key": "same-key-two-accounts"}
    mine = await client.post(
        "/v1/api-keys", json={"name": "a"}, headers={**bearer(account.private_key), **shared}
    )
    theirs = await client.post(
        "/v1/api-keys", json={"name": "a"}, headers={**bearer(other.private_key), **shared}
    )
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]


async def test_invalid_keys_are_400_and_nothing_is_written(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    before = await _counts(db, account.account.id)
    for bad in ("x" * 10_000, "x" * 256, "has space", "tab\there", ""):
        response = await client.post(
            "/v1/api-keys",
            json={"name": "x"},
            headers={**bearer(account.private_key), "Idempotency-Key": bad},
        )
        body = assert_problem(response, 400, "invalid_idempotency_key")
        assert body["param"] == "Idempotency-Key"
    assert await _counts(db, account.account.id) == before


async def test_errors_worth_retrying_are_not_kept(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    headers = {"Idempotency-Key": "retry-me", "Authorization": "Bearer mvi_live_" + "a" * 44}
    assert (
        await client.post("/v1/api-keys", json={"name": "a"}, headers=headers)
    ).status_code == 401
    # the same key, now with a valid credential, is a different caller and runs normally
    good = {**bearer(account.private_key), "Idempotency-Key": "retry-me"}
    assert (await client.post("/v1/api-keys", json={"name": "a"}, headers=good)).status_code == 201


async def test_validation_failures_are_kept_and_replayed(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    headers = {**bearer(account.private_key), "Idempotency-Key": "bad-body"}
    first = await client.post("/v1/api-keys", json={"name": ""}, headers=headers)
    second = await client.post("/v1/api-keys", json={"name": ""}, headers=headers)
    assert first.status_code == second.status_code == 422
    assert second.headers["idempotent-replayed"] == "true"


async def test_concurrent_requests_with_one_key_create_one_object(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    before, _ = await _counts(db, account.account.id)
    headers = {**bearer(account.private_key), "Idempotency-Key": "race-1"}
    responses = await asyncio.gather(
        *[client.post("/v1/api-keys", json={"name": "race"}, headers=headers) for _ in range(8)]
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    created_ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created_ids) == 1
    for r in responses:
        if r.status_code == 409:
            assert r.json()["code"] == "idempotent_request_in_progress"
    assert (await _counts(db, account.account.id))[0] == before + 1


async def test_a_refused_oversized_body_keeps_no_record(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    _, records_before = await _counts(db, account.account.id)

    async def chunks():
        for _ in range(40):
            yield b"x" * 65536

    response = await client.post(
        "/v1/api-keys",
        content=chunks(),
        headers={
            **bearer(account.private_key),
            "Idempotency-Key": "big",
            "Content-Type": "application/json",
        },
    )
    assert_problem(response, 413, "payload_too_large")
    assert (await _counts(db, account.account.id))[1] == records_before
