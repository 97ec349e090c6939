"""Signing keys and the playback tokens customers sign with them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from moviie.accounts.service import NewAccount
from moviie.db.engine import Database
from moviie.playback.tokens import PlaybackForbidden, verify_playback_token
from tests.conftest import bearer, make_account
from tests.http.test_errors import assert_problem

VIDEO = "vid_01jeq3v5m3f6a9b1c2d3e4f5g6"


async def create_key(client: httpx.AsyncClient, account: NewAccount) -> dict[str, Any]:
    response = await client.post("/v1/signing-keys", headers=bearer(account.private_key))
    assert response.status_code == 201, response.text
    return dict(response.json())


def sign(private_pem: str, kid: str, **claims: Any) -> str:
    payload = {"sub": VIDEO, "aud": "playback", "exp": int(time.time()) + 600, **claims}
    return jwt.encode(payload, private_pem, algorithm="RS256", headers={"kid": kid})


async def verify(db: Database, account: NewAccount, token: str | None, video: str = VIDEO) -> None:
    async with db.transaction(write=False) as session:
        await verify_playback_token(session, account.account.id, video, token)


async def test_a_key_signs_tokens_that_verify(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    key = await create_key(client, account)
    assert key["id"].startswith("sk_")
    assert key["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    await verify(db, account, sign(key["private_key"], key["id"]))

    listed = (await client.get("/v1/signing-keys", headers=bearer(account.private_key))).json()
    assert [k["id"] for k in listed["data"]] == [key["id"]]
    assert "private_key" not in listed["data"][0]
    shown = await client.get(f"/v1/signing-keys/{key['id']}", headers=bearer(account.private_key))
    assert set(shown.json()) == {"id", "created_at"}


async def test_bad_tokens_are_refused(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    key = await create_key(client, account)
    pem, kid = key["private_key"], key["id"]
    public_pem = (
        serialization.load_pem_private_key(pem.encode(), password=None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def b64(part: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")

    soon = int(time.time()) + 60

    def hs256_with(secret: bytes) -> str:  # built by hand: PyJWT refuses to make this forgery
        claims = {"sub": VIDEO, "aud": "playback", "exp": soon}
        signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64(claims)}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    unsigned = (
        f"{b64({'alg': 'none', 'kid': kid})}.{b64({'sub': VIDEO, 'aud': 'playback', 'exp': soon})}."
    )
    header, _, signature = sign(pem, kid).split(".")
    tampered_payload = b64({"sub": "vid_other", "aud": "playback", "exp": int(time.time()) + 60})
    cases = {
        "missing": None,
        "garbage": "not-a-jwt",
        "expired": sign(pem, kid, exp=int(time.time()) - 120),
        "wrong audience": sign(pem, kid, aud="download"),
        "other video": sign(pem, kid, sub="vid_01jeq3v5m3f6a9b1c2d3e4f5zz"),
        "no exp": jwt.encode(
            {"sub": VIDEO, "aud": "playback"}, pem, algorithm="RS256", headers={"kid": kid}
        ),
        "too long-lived": sign(pem, kid, exp=int(time.time()) + 3 * 24 * 3600),
        "unknown kid": sign(pem, "sk_01jeq3v5m3f6a9b1c2d3e4f5zz"),
        "no kid": jwt.encode(
            {"sub": VIDEO, "aud": "playback", "exp": int(time.time()) + 60}, pem, algorithm="RS256"
        ),
        "alg none": unsigned,
        "HS256 keyed with the public key": hs256_with(public_pem),
        "another key's signature": jwt.encode(
            {"sub": VIDEO, "aud": "playback", "exp": int(time.time()) + 60},
            stranger,
            algorithm="RS256",
            headers={"kid": kid},
        ),
        "tampered payload": f"{header}.{tampered_payload}.{signature}",
    }
    accepted = []
    for name, token in cases.items():
        try:
            await verify(db, account, token)
            accepted.append(name)
        except PlaybackForbidden:
            pass
    assert accepted == []


async def test_keys_are_per_account_and_deleting_one_revokes_its_tokens(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    key = await create_key(client, account)
    token = sign(key["private_key"], key["id"])
    other = await make_account(db)
    # another account's video cannot be opened with this account's key
    with pytest.raises(PlaybackForbidden):
        await verify(db, other, token)
    assert_problem(
        await client.get(f"/v1/signing-keys/{key['id']}", headers=bearer(other.private_key)),
        404,
        "signing_key_not_found",
    )
    assert_problem(
        await client.delete(f"/v1/signing-keys/{key['id']}", headers=bearer(other.private_key)),
        404,
        "signing_key_not_found",
    )
    await verify(db, account, token)
    deleted = await client.delete(
        f"/v1/signing-keys/{key['id']}", headers=bearer(account.private_key)
    )
    assert deleted.status_code == 204
    with pytest.raises(PlaybackForbidden):
        await verify(db, account, token)


async def test_signing_keys_need_a_private_key_with_keys_write(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    assert_problem(
        await client.post("/v1/signing-keys", headers=bearer(account.publishable_key)),
        403,
        "insufficient_scope",
    )
    reader = (
        await client.post(
            "/v1/api-keys",
            json={"name": "r", "scopes": ["videos:read"]},
            headers=bearer(account.private_key),
        )
    ).json()["key"]
    assert_problem(
        await client.post("/v1/signing-keys", headers=bearer(reader)), 403, "insufficient_scope"
    )
