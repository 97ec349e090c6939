from __future__ import annotations

import httpx
from openapi_spec_validator import validate

ERROR_STATUSES = {"400", "404", "422", "429", "500"}


async def test_the_published_spec_is_valid_openapi_31(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.1")
    validate(spec)
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values())


async def test_every_operation_declares_problem_errors_and_examples(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/v1/openapi.json")).json()
    operations = [
        (path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
    ]
    assert len(operations) >= 4
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        assert set(responses) >= ERROR_STATUSES, where
        for status in ERROR_STATUSES:
            content = responses[status]["content"]
            assert list(content) == ["application/problem+json"], where
            assert content["application/problem+json"]["example"]["code"], where
        assert op.get("security"), f"{where} is not behind the bearer scheme"
        assert {"401", "403"} <= set(responses), where
        for status, response in responses.items():
            json_content = response.get("content", {}).get("application/json")
            if status.startswith("2") and json_content:
                assert "example" in json_content, f"{where} {status} has no example"
        assert op.get("summary"), where


async def test_docs_page_is_served_without_a_cdn(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "/v1/openapi.json" in response.text
    assert "cdn" not in response.text.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/static/vendor/swagger-ui/{asset}" in response.text
        served = await client.get(f"/static/vendor/swagger-ui/{asset}")
        assert served.status_code == 200
        assert len(served.content) > 10_000
