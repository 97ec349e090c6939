"""Holes a review found; each test failed before its fix."""

from __future__ import annotations

import httpx
import pytest

from moviie.accounts.service import NewAccount
from moviie.net.guard import is_public_ip
from tests.conftest import bearer
from tests.http.test_errors import assert_problem


async def test_an_idempotent_json_upload_request_cannot_buffer_an_unbounded_body(
    client: httpx.AsyncClient,
) -> None:
    async def chunks():  # 4 MiB of JSON-ish bytes, no Content-Length, any bearer value
        for _ in range(64):
            yield b"x" * 65536

    response = await client.post(
        "/v1/videos",
        content=chunks(),
        headers={
            "Authorization": "Bearer nope",
            "Idempotency-Key": "k",
            "Content-Type": "application/json",
        },
    )
    assert_problem(response, 413, "payload_too_large")


async def test_a_key_cannot_grant_scopes_it_lacks(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    keys_only = (
        await client.post(
            "/v1/api-keys",
            json={"name": "k", "scopes": ["keys:write"]},
            headers=bearer(account.private_key),
        )
    ).json()["key"]
    for body in ({"name": "all"}, {"name": "reader", "scopes": ["videos:read"]}):
        response = await client.post("/v1/api-keys", json=body, headers=bearer(keys_only))
        assert_problem(response, 403, "insufficient_scope")
    same = await client.post(
        "/v1/api-keys", json={"name": "same", "scopes": ["keys:write"]}, headers=bearer(keys_only)
    )
    assert same.status_code == 201
    publishable = await client.post(
        "/v1/api-keys", json={"name": "web", "type": "publishable"}, headers=bearer(keys_only)
    )
    assert publishable.status_code == 201


async def test_odd_inputs_are_4xx_not_500(client: httpx.AsyncClient, account: NewAccount) -> None:
    headers = bearer(account.private_key)
    naive = await client.get(
        "/v1/videos", params={"created_after": "2026-01-01T00:00:00"}, headers=headers
    )
    assert_problem(naive, 422, "validation_failed")
    reserved = (await client.post("/v1/videos/uploads/reserve", json={}, headers=headers)).json()
    path = httpx.URL(reserved["upload"]["url"]).path
    upload_id = path.rsplit("/", 1)[1]
    for query in (
        {"expires": "99999999999", "signature": "é"},
        {"expires": "²", "signature": "ab"},
    ):
        response = await client.put(f"/uploads/{upload_id}", params=query, content=b"x")
        assert_problem(response, 403, "invalid_upload_signature")
    tus = await client.patch(
        httpx.URL(reserved["upload"]["tus_url"]).raw_path.decode(),
        content=b"x",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": b"\xb2",  # type: ignore[dict-item]
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert_problem(tus, 400, "invalid_tus_header")


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "fec0::1"],
)
def test_ipv6_spellings_of_private_addresses_are_not_public(address: str) -> None:
    assert not is_public_ip(address)


def test_public_addresses_behind_nat64_are_public() -> None:
    assert is_public_ip("64:ff9b::808:808")  # 8.8.8.8


async def test_text_no_database_can_store_is_refused(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    headers = {**bearer(account.private_key), "Content-Type": "application/json"}
    for raw in (b'{"name": "a\\u0000b"}', b'{"name": "\\ud948x"}'):
        response = await client.post("/v1/api-keys", content=raw, headers=headers)
        assert_problem(response, 422, "validation_failed")
    nul_query = await client.get(
        "/v1/videos", params={"q": "a\x00b"}, headers=bearer(account.private_key)
    )
    assert_problem(nul_query, 400, "bad_request")
    upload = await client.post(
        "/v1/videos",
        headers=bearer(account.private_key),
        files={"file": ("a\x01b.mp4", b"data", "video/mp4")},
        data={"title": "x\x00y"},
    )
    assert_problem(upload, 422, "validation_failed")
