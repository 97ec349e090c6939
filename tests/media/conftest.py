"""Media tests run on both storage back ends: local disk, and S3 (moto in server mode)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from fastapi import FastAPI

from moviie.app import create_app
from moviie.jobs.queues import QUEUES
from tests.conftest import BUCKET, make_settings


@pytest_asyncio.fixture(params=["local", "s3"])
async def app_with_workers(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> AsyncIterator[FastAPI]:
    """`moviie serve` in this process, its media on local disk or in an S3 bucket."""
    storage: dict[str, object] = {}
    if request.param == "s3":
        request.getfixturevalue("aws_env")
        storage = {
            "storage_url": f"s3://{BUCKET}/media-{uuid.uuid4().hex[:10]}",
            "s3_endpoint_url": request.getfixturevalue("moto_endpoint"),
        }
    settings = make_settings(database_url, tmp_path, queue_polling_interval_s=0.1, **storage)
    application = create_app(settings, worker_queues=QUEUES)
    async with application.router.lifespan_context(application):
        yield application
