"""Every error the app can produce is problem+json with a status, a code and the request id."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from moviie.accounts.service import NewAccount
from tests.conftest import bearer


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"/errors/{code}"
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/nothing-here"), 404, "not_found")


async def test_wrong_method_is_a_405_problem(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    response = await client.put("/v1/me", headers=bearer(account.private_key))
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


async def test_malformed_json_is_400(client: httpx.AsyncClient, account: NewAccount) -> None:
    response = await client.post(
        "/v1/api-keys",
        content=b'{"name": "x",',
        headers={**bearer(account.private_key), "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "invalid_json")


async def test_wrong_content_type_is_415(client: httpx.AsyncClient, account: NewAccount) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = await client.post(
            "/v1/api-keys",
            content=b'{"name": "x"}',
            headers={**bearer(account.private_key), "Content-Type": content_type},
        )
        assert_problem(response, 415, "unsupported_media_type")


async def test_validation_errors_are_422_with_locations(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    response = await client.post(
        "/v1/api-keys", json={"name": 5, "extra": True}, headers=bearer(account.private_key)
    )
    body = assert_problem(response, 422, "validation_failed")
    locations = [tuple(e["loc"]) for e in body["errors"]]  # type: ignore[attr-defined]
    assert ("body", "name") in locations
    assert ("body", "extra") in locations


async def test_a_body_over_the_limit_is_413_declared_or_streamed(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    huge = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    headers = {**bearer(account.private_key), "Content-Type": "application/json"}
    assert_problem(
        await client.post("/v1/api-keys", content=huge, headers=headers), 413, "payload_too_large"
    )

    async def chunks():  # no Content-Length: counted while it streams
        for _ in range(40):
            yield b"x" * 65536

    response = await client.post("/v1/api-keys", content=chunks(), headers=headers)
    assert_problem(response, 413, "payload_too_large")


async def test_huge_limit_and_garbage_cursor(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    headers = bearer(account.private_key)
    assert_problem(
        await client.get("/v1/api-keys?limit=100000", headers=headers), 422, "validation_failed"
    )
    assert_problem(
        await client.get("/v1/api-keys?limit=0", headers=headers), 422, "validation_failed"
    )
    for cursor in ("garbage", "eyJ4IjoxfQ", "%%%", "e30"):
        response = await client.get("/v1/api-keys", params={"cursor": cursor}, headers=headers)
        body = assert_problem(response, 400, "invalid_cursor")
        assert body["param"] == "cursor"


async def test_an_uncaught_exception_is_a_500_without_a_trace(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def explode() -> None:
        raise RuntimeError("secret internals at /srv/moviie/app.py line 42")

    app.add_api_route("/v1/test-explode", explode)
    response = await client.get("/v1/test-explode")
    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert body["request_id"]


async def test_request_ids_are_echoed_when_sane_and_made_otherwise(
    client: httpx.AsyncClient,
) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-Id": "abc-123_x.y:z"})
    assert echoed.headers["x-request-id"] == "abc-123_x.y:z"
    for insane in ("has space", "x" * 300, "<script>"):
        response = await client.get("/healthz", headers={"X-Request-Id": insane})
        assert response.headers["x-request-id"].startswith("req_")
    assert (await client.get("/healthz")).headers["x-request-id"].startswith("req_")
