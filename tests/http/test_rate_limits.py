from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio

from moviie.app import create_app
from tests.conftest import bearer, make_account, make_settings, within_one_budget_window
from tests.http.test_errors import assert_problem


async def _limited_client(
    database_url: str, tmp_path: Path, **overrides: object
) -> AsyncIterator[httpx.AsyncClient]:
    settings = {"rate_limit_per_minute": 3, **overrides}
    app = create_app(make_settings(database_url, tmp_path, **settings))
    async with app.router.lifespan_context(app):
        await app.state.limiter.reset()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


@pytest_asyncio.fixture(params=["memory", "redis"])
async def limited(request, database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    redis_url = "redis://127.0.0.1:6379/15" if request.param == "redis" else None
    async for c in _limited_client(database_url, tmp_path, redis_url=redis_url):
        yield c


async def test_a_spent_budget_is_429_with_retry_after(limited: httpx.AsyncClient) -> None:
    account = await make_account(limited.app.state.db)  # type: ignore[attr-defined]
    headers = bearer(account.private_key)
    await within_one_budget_window()
    remaining = []
    for _ in range(3):
        response = await limited.get("/v1/me", headers=headers)
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "3"
        remaining.append(int(response.headers["RateLimit-Remaining"]))
        assert 0 < int(response.headers["RateLimit-Reset"]) <= 60
    assert remaining == [2, 1, 0]
    refused = await limited.get("/v1/me", headers=headers)
    body = assert_problem(refused, 429, "rate_limited")
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= 60
    assert body["retry_after"] == retry_after
    assert refused.headers["RateLimit-Remaining"] == "0"

    # the spent key is refused on every route; budgets are per key, so another key is unaffected
    other_route = await limited.post("/v1/api-keys", json={"name": "x"}, headers=headers)
    assert other_route.status_code == 429
    fresh = await make_account(limited.app.state.db)  # type: ignore[attr-defined]
    assert (await limited.get("/v1/me", headers=bearer(fresh.private_key))).status_code == 200


async def test_redis_budgets_are_shared_by_processes(database_url: str, tmp_path: Path) -> None:
    redis_url = "redis://127.0.0.1:6379/15"
    statuses = []
    clients = []
    try:
        for _ in range(2):
            gen = _limited_client(database_url, tmp_path, redis_url=redis_url)
            clients.append((gen, await gen.__anext__()))
        account = await make_account(clients[0][1].app.state.db)  # type: ignore[attr-defined]
        key = account.private_key
        await within_one_budget_window()
        for i in range(4):
            c = clients[i % 2][1]
            statuses.append((await c.get("/v1/me", headers=bearer(key))).status_code)
    finally:
        for gen, _ in clients:
            await gen.aclose()
    assert statuses == [200, 200, 200, 429]


async def test_errors_after_authentication_carry_the_budget(
    client: httpx.AsyncClient, account: object
) -> None:
    response = await client.get("/v1/videos/vid_nope", headers=bearer(account.private_key))  # type: ignore[attr-defined]
    assert response.status_code == 404
    assert response.headers["RateLimit-Limit"] == "600"
    assert int(response.headers["RateLimit-Remaining"]) < 600
    assert len(response.headers.get_list("RateLimit-Limit")) == 1


async def test_ai_requests_have_their_own_stricter_budget(
    database_url: str, tmp_path: Path
) -> None:
    """`MOVIIE_AI_RATE_LIMIT_PER_MINUTE` caps generation requests; reading is not charged to it."""
    async for client in _limited_client(
        database_url, tmp_path, rate_limit_per_minute=100, ai_rate_limit_per_minute=2
    ):
        account = await make_account(client.app.state.db)  # type: ignore[attr-defined]
        headers = bearer(account.private_key)
        url = "/v1/videos/vid_01m91jnotthere00000000000/subtitles"
        await within_one_budget_window()
        first = [(await client.post(url, json={}, headers=headers)).status_code for _ in range(2)]
        assert first == [404, 404]
        refused = await client.post(url, json={}, headers=headers)
        assert_problem(refused, 429, "rate_limited")
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        assert (await client.get("/v1/jobs", headers=headers)).status_code == 200
