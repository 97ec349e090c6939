from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from moviie.app import create_app
from moviie.jobs.queues import QUEUES
from tests.conftest import make_settings
from tests.webhooks.receiver import Receiver, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest_asyncio.fixture(params=[0.2])
async def hooks_app(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> AsyncIterator[FastAPI]:
    """`moviie serve` in this process, delivering to loopback receivers, with a retry base of
    `request.param` seconds (parametrize indirectly for another)."""
    settings = make_settings(
        database_url,
        tmp_path,
        queue_polling_interval_s=0.05,
        webhooks_allow_private=True,
        webhook_retry_base_s=request.param,
        webhook_timeout_s=2,
    )
    application = create_app(settings, worker_queues=QUEUES)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture
async def hooks_client(hooks_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=hooks_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        yield client
