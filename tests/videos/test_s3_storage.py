"""The upload paths and media deletion with S3 storage (moto in server mode on loopback)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from moviie.accounts.service import NewAccount
from moviie.app import create_app
from moviie.jobs.queues import QUEUES
from tests.conftest import BUCKET, REGION, bearer, make_account, make_settings


@pytest_asyncio.fixture
async def s3_app(
    database_url: str, tmp_path: Path, moto_endpoint: str, aws_env: None
) -> AsyncIterator[tuple[FastAPI, str]]:
    prefix = f"api-{uuid.uuid4().hex[:10]}"
    settings = make_settings(
        database_url,
        tmp_path,
        storage_url=f"s3://{BUCKET}/{prefix}",
        s3_endpoint_url=moto_endpoint,
        queue_polling_interval_s=0.1,
    )
    app = create_app(settings, worker_queues=QUEUES)
    async with app.router.lifespan_context(app):
        yield app, prefix


def _objects(endpoint: str, prefix: str) -> dict[str, bytes]:
    s3: Any = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")
    return {
        o["Key"][len(prefix) + 1 :]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
        for o in listed.get("Contents", [])
    }


@pytest.mark.slow
async def test_every_upload_path_stores_to_s3_and_delete_removes_it(
    s3_app: tuple[FastAPI, str], moto_endpoint: str
) -> None:
    app, prefix = s3_app
    account: NewAccount = await make_account(app.state.db)
    headers = bearer(account.private_key)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        multipart_bytes = os.urandom(
            9 * 1024 * 1024
        )  # past one 5 MiB part: a real multipart upload
        first = await client.post(
            "/v1/videos", headers=headers, files={"file": ("a.mp4", multipart_bytes, "video/mp4")}
        )
        assert first.status_code == 201, first.text

        put_bytes = os.urandom(300_000)
        reserved = (
            await client.post("/v1/videos/uploads/reserve", json={}, headers=headers)
        ).json()
        path = httpx.URL(reserved["upload"]["url"]).raw_path.decode()
        assert (await client.put(path, content=put_bytes)).status_code == 204

        tus_bytes = os.urandom(200_000)
        reserved_tus = (
            await client.post(
                "/v1/videos/uploads/reserve", json={"size_bytes": len(tus_bytes)}, headers=headers
            )
        ).json()
        tus_path = httpx.URL(reserved_tus["upload"]["tus_url"]).raw_path.decode()
        for offset in range(0, len(tus_bytes), 64_000):
            response = await client.patch(
                tus_path,
                content=tus_bytes[offset : offset + 64_000],
                headers={
                    "Tus-Resumable": "1.0.0",
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                },
            )
            assert response.status_code == 204, response.text

        ids = [first.json()["id"], reserved["video"]["id"], reserved_tus["video"]["id"]]
        stored = _objects(moto_endpoint, prefix)
        base = f"accounts/{account.account.id}/videos"
        assert stored == {
            f"{base}/{ids[0]}/source": multipart_bytes,
            f"{base}/{ids[1]}/source": put_bytes,
            f"{base}/{ids[2]}/source": tus_bytes,
        }
        me = (await client.get("/v1/me", headers=headers)).json()
        assert me["usage"]["storage_bytes"] == len(multipart_bytes) + len(put_bytes) + len(
            tus_bytes
        )

        assert (await client.delete(f"/v1/videos/{ids[0]}", headers=headers)).status_code == 204
        for _ in range(100):
            if f"{base}/{ids[0]}/source" not in _objects(moto_endpoint, prefix):
                break
            await asyncio.sleep(0.1)
        remaining = _objects(moto_endpoint, prefix)
        assert sorted(remaining) == [f"{base}/{ids[1]}/source", f"{base}/{ids[2]}/source"]
    assert not list((app.state.settings.data_dir / "uploads").glob("*.part"))
