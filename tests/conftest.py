"""Shared fixtures: a real database per backend (SQLite file, PostgreSQL), the real app."""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import httpx
import psycopg
import pytest
import pytest_asyncio
from dbos import DBOSClient
from fastapi import FastAPI
from moto.server import ThreadedMotoServer

from moviie.accounts import service as accounts
from moviie.analytics.rollup import roll_up
from moviie.app import create_app
from moviie.config import Settings
from moviie.db import migrate
from moviie.db.engine import Database
from moviie.db.models import Video
from moviie.db.types import utcnow
from moviie.ids import new_id
from moviie.jobs.engine import migrate_engine
from moviie.jobs.queues import QUEUES
from moviie.jobs.urls import system_database_url
from tests.servers import free_port, moviie_env, moviie_server

BUCKET = "moviie-test"
REGION = "us-east-1"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": REGION,
}
PG_ADMIN_URL = os.environ.get("MOVIIE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = [b for b in os.environ.get("MOVIIE_TEST_DATABASES", "sqlite,postgresql").split(",") if b]


def create_pg_database() -> str:
    name = f"moviie_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_database_url(backend: str, tmp_dir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / f'moviie-{uuid.uuid4().hex[:8]}.db'}"
    return create_pg_database()


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        log_format="console",
        log_level="WARNING",
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database, one per backend for the whole session."""
    url = fresh_database_url(request.param, tmp_path_factory.mktemp("db"))
    migrate.upgrade(url)
    migrate_engine(make_settings(url, tmp_path_factory.mktemp("data")))
    yield url
    if request.param == "postgresql":
        drop_pg_database(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


def cancel_leftover_jobs(database_url: str) -> None:
    """The session shares one database per backend: jobs a test left queued or running (its
    app had no workers, or stopped mid-job) would be taken up by a later test's workers, on
    files gone with that test's tmp dir. Cancelled when the test's app stops."""
    client = DBOSClient(system_database_url=system_database_url(database_url))
    try:
        left = client.list_workflows(
            status=["ENQUEUED", "PENDING"], load_input=False, load_output=False
        )
        if left:
            client.cancel_workflows([w.workflow_id for w in left])
    finally:
        client.destroy()


@pytest_asyncio.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application
    await asyncio.to_thread(cancel_leftover_jobs, settings.resolved_database_url)


@pytest_asyncio.fixture
async def app_with_workers(database_url: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """`moviie serve` in this process: the API plus workers on every queue, polling fast, and
    URL imports allowed from loopback (the tests serve files locally)."""
    settings = make_settings(
        database_url, tmp_path, queue_polling_interval_s=0.1, ingest_allow_private=True
    )
    application = create_app(settings, worker_queues=QUEUES)
    async with application.router.lifespan_context(application):
        yield application
    await asyncio.to_thread(cancel_leftover_jobs, settings.resolved_database_url)


@pytest.fixture
def live_api(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """`moviie api` in a subprocess on a loopback port, on this test's database and data dir:
    for clients that need a real socket (tus, browsers). Yields its base URL."""
    env = moviie_env(
        settings.resolved_database_url,
        settings.data_dir,
        MOVIIE_RATE_LIMIT_PER_MINUTE="100000",
    )
    with moviie_server("api", env, tmp_path / "api.log") as base_url:
        yield base_url


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on loopback serving `tmp_path / "served"`: (base URL, directory)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as c:
        yield c


@pytest.fixture
def db(app: FastAPI) -> Database:
    database: Database = app.state.db
    return database


async def make_account(db: Database, plan: str = "trial") -> accounts.NewAccount:
    async with db.transaction() as session:
        return await accounts.create_account(
            session, email=f"{uuid.uuid4().hex[:10]}@example.test", name="Test account", plan=plan
        )


async def add_ready_video(db: Database, account_id: str, **fields: object) -> Video:
    """A ready video row, no media behind it: for what reads only the row (credits,
    analytics). `fields` override the defaults (a public 30 s 320x240 clip with sound)."""
    now = utcnow()
    values: dict[str, object] = {
        "id": new_id("vid"), "account_id": account_id, "status": "ready", "privacy": "public",
        "duration_s": 30.0, "width": 320, "height": 240, "has_audio": True, "meta": {},
        "tags": [], "created_at": now, "updated_at": now, "ready_at": now,
    }  # fmt: skip
    video = Video(**(values | fields))
    async with db.transaction() as session:
        session.add(video)
    return video


async def roll_up_now(url: str) -> None:
    """The analytics rollup job's work, at once (no settling time), on `url`'s database: for
    tests whose events came through another process."""
    db = Database(url)
    try:
        await roll_up(db, utcnow(), settle_s=0)
    finally:
        await db.dispose()


async def within_one_budget_window(need_s: float = 10.0) -> None:
    """Wait, if need be, so that the next `need_s` seconds fall in one rate-limit minute.

    Request budgets are sliding-window counters (an estimate that weighs the last minute's count
    by what is left of it). In process their windows start on the minute (in Redis at a key's
    first hit, so a fresh key needs no wait). A burst that straddles a minute's end may pass one
    request more than a count in one window would, so a test that counts a budget exactly
    starts its burst where it cannot straddle."""
    left = 60 - time.time() % 60
    if left < need_s:
        await asyncio.sleep(left + 0.05)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest_asyncio.fixture
async def account(db: Database) -> accounts.NewAccount:
    return await make_account(db)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials only: nothing from the developer's AWS setup leaks in."""
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
