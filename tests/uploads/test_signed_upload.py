"""The signed upload URL with a plain `PUT`: no API key, the signature is the credential."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import update

from moviie.accounts.service import NewAccount
from moviie.app import create_app
from moviie.config import Settings
from moviie.db.engine import Database
from moviie.db.models import Account
from moviie.plans.catalog import get_plan
from moviie.server_secret import load_server_secret
from moviie.uploads import api as uploads_api
from moviie.uploads.signing import signed_upload_url
from tests.conftest import bearer, make_account, make_settings
from tests.http.test_errors import assert_problem

MIB = 1024 * 1024
TRIAL_QUOTA = get_plan("trial").storage_bytes


async def reserve(
    client: httpx.AsyncClient, key: str, size_bytes: int | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"filename": "clip.mp4", **extra}
    if size_bytes is not None:
        body["size_bytes"] = size_bytes
    response = await client.post("/v1/videos/uploads/reserve", json=body, headers=bearer(key))
    assert response.status_code == 201, response.text
    reserved: dict[str, Any] = response.json()
    assert reserved["video"]["status"] == "waiting_upload"
    assert reserved["upload"]["method"] == "PUT"
    assert reserved["upload"]["id"].startswith("upl_")
    return reserved


def local_target(url: str) -> str:
    """The signed URL's path and query, for the in-process (ASGI) client."""
    return httpx.URL(url).raw_path.decode()


def source_path(settings: Settings, account_id: str, video_id: str) -> Path:
    return settings.data_dir / "media" / "accounts" / account_id / "videos" / video_id / "source"


def staged_path(settings: Settings, upload_id: str) -> Path:
    return settings.data_dir / "uploads" / f"{upload_id}.part"


async def storage_used(client: httpx.AsyncClient, key: str) -> int:
    response = await client.get("/v1/me", headers=bearer(key))
    assert response.status_code == 200, response.text
    return int(response.json()["usage"]["storage_bytes"])


async def video_status(client: httpx.AsyncClient, key: str, video_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/videos/{video_id}", headers=bearer(key))
    assert response.status_code == 200, response.text
    video: dict[str, Any] = response.json()
    return video


async def set_storage_used(db: Database, account_id: str, nbytes: int) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Account).where(Account.id == account_id).values(storage_bytes=nbytes)
        )


async def assert_nothing_stored(
    client: httpx.AsyncClient, settings: Settings, account: NewAccount, reserved: dict[str, Any]
) -> None:
    video_id = reserved["video"]["id"]
    assert not source_path(settings, account.account.id, video_id).exists()
    video = await video_status(client, account.private_key, video_id)
    assert video["status"] == "waiting_upload"
    assert video["size_bytes"] in (None, 0)


async def test_put_stores_the_file_and_counts_it(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings
) -> None:
    data = os.urandom(MIB + 12345)
    key = account.private_key
    before = await storage_used(client, key)
    reserved = await reserve(client, key, size_bytes=len(data))
    url = reserved["upload"]["url"]
    assert url.startswith(settings.resolved_public_url + "/uploads/")
    assert reserved["upload"]["tus_url"] == url

    # no API key: the signature is the credential
    response = await client.put(local_target(url), content=data)
    assert response.status_code == 204, response.text

    video = await video_status(client, key, reserved["video"]["id"])
    assert video["status"] == "processing"
    assert video["size_bytes"] == len(data)
    assert await storage_used(client, key) == before + len(data)
    stored = source_path(settings, account.account.id, reserved["video"]["id"])
    assert stored.read_bytes() == data
    assert not staged_path(settings, reserved["upload"]["id"]).exists()


async def test_put_without_a_declared_size_and_chunked_body(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings
) -> None:
    data = os.urandom(3 * MIB // 2)
    reserved = await reserve(client, account.private_key)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 256 * 1024):
            yield data[start : start + 256 * 1024]

    response = await client.put(local_target(reserved["upload"]["url"]), content=chunks())
    assert response.status_code == 204, response.text
    video = await video_status(client, account.private_key, reserved["video"]["id"])
    assert video["status"] == "processing"
    assert video["size_bytes"] == len(data)
    assert source_path(settings, account.account.id, video["id"]).read_bytes() == data


def _flip_one_hex_char(url: str) -> str:
    parsed = httpx.URL(url)
    signature = parsed.params["signature"]
    flipped = ("1" if signature[0] == "0" else "0") + signature[1:]
    return local_target(str(parsed.copy_set_param("signature", flipped)))


async def test_bad_signed_urls_are_403_and_store_nothing(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings
) -> None:
    data = os.urandom(64 * 1024)
    key = account.private_key
    reserved = await reserve(client, key, size_bytes=len(data))
    other = await reserve(client, key, size_bytes=len(data))
    url = httpx.URL(reserved["upload"]["url"])
    upload_id = reserved["upload"]["id"]
    before = await storage_used(client, key)

    tampered = _flip_one_hex_char(reserved["upload"]["url"])
    missing_signature = local_target(str(url.copy_remove_param("signature")))
    missing_expires = local_target(str(url.copy_remove_param("expires")))
    no_query = url.path
    # a genuine signature and expiry, but of another upload
    other_url = httpx.URL(other["upload"]["url"])
    swapped = local_target(str(other_url.copy_with(path=url.path)))
    # a later expiry than the one signed
    extended = local_target(
        str(url.copy_set_param("expires", str(int(url.params["expires"]) + 3600)))
    )
    for target in (tampered, missing_signature, missing_expires, no_query, swapped, extended):
        response = await client.put(target, content=data)
        assert_problem(response, 403, "invalid_upload_signature")

    secret = load_server_secret(settings)
    expired = signed_upload_url(
        secret, settings.resolved_public_url, upload_id, int(time.time()) - 10
    )
    response = await client.put(local_target(expired), content=data)
    assert_problem(response, 403, "upload_url_expired")

    # the tus verbs are guarded the same way
    tus = {"Tus-Resumable": "1.0.0"}
    head = await client.head(tampered, headers=tus)
    assert head.status_code == 403  # a HEAD answer has no body to carry the problem
    assert "upload-offset" not in head.headers
    patch_headers = {
        **tus,
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": "0",
    }
    response = await client.patch(local_target(expired), content=data, headers=patch_headers)
    assert_problem(response, 403, "upload_url_expired")
    response = await client.patch(swapped, content=data, headers=patch_headers)
    assert_problem(response, 403, "invalid_upload_signature")

    await assert_nothing_stored(client, settings, account, reserved)
    assert not staged_path(settings, upload_id).exists()
    assert await storage_used(client, key) == before

    # the genuine URL still works afterwards
    response = await client.put(local_target(reserved["upload"]["url"]), content=data)
    assert response.status_code == 204, response.text


async def test_a_second_put_to_a_completed_upload_is_409(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings
) -> None:
    data = os.urandom(100_000)
    key = account.private_key
    reserved = await reserve(client, key, size_bytes=len(data))
    target = local_target(reserved["upload"]["url"])
    assert (await client.put(target, content=data)).status_code == 204
    used = await storage_used(client, key)

    response = await client.put(target, content=os.urandom(len(data)))
    assert_problem(response, 409, "upload_completed")
    assert await storage_used(client, key) == used
    stored = source_path(settings, account.account.id, reserved["video"]["id"])
    assert stored.read_bytes() == data
    video = await video_status(client, key, reserved["video"]["id"])
    assert video["status"] == "processing"
    assert video["size_bytes"] == len(data)


async def test_an_empty_put_is_400_and_stores_nothing(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings
) -> None:
    key = account.private_key
    reserved = await reserve(client, key)
    before = await storage_used(client, key)
    response = await client.put(local_target(reserved["upload"]["url"]), content=b"")
    assert_problem(response, 400, "empty_file")
    await assert_nothing_stored(client, settings, account, reserved)
    assert not staged_path(settings, reserved["upload"]["id"]).exists()
    assert await storage_used(client, key) == before

    # the upload is still open: a real file goes through afterwards
    data = os.urandom(1000)
    response = await client.put(local_target(reserved["upload"]["url"]), content=data)
    assert response.status_code == 204, response.text


async def test_a_put_over_the_plan_storage_is_402(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings, db: Database
) -> None:
    key = account.private_key
    data = os.urandom(200_000)
    reserved = await reserve(client, key)  # no declared size: the quota decides at PUT time
    available = 50_000
    await set_storage_used(db, account.account.id, TRIAL_QUOTA - available)

    # Content-Length declared: refused before the body is read
    response = await client.put(local_target(reserved["upload"]["url"]), content=data)
    body = assert_problem(response, 402, "storage_quota_exceeded")
    assert body["required"] == len(data)
    assert body["available"] == available
    assert body["shortfall"] == len(data) - available
    await assert_nothing_stored(client, settings, account, reserved)
    assert await storage_used(client, key) == TRIAL_QUOTA - available

    # no Content-Length (chunked): refused when the bytes are counted, nothing kept
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 64 * 1024):
            yield data[start : start + 64 * 1024]

    response = await client.put(local_target(reserved["upload"]["url"]), content=chunks())
    body = assert_problem(response, 402, "storage_quota_exceeded")
    assert body["required"] == len(data)
    assert body["available"] == available
    assert body["shortfall"] == len(data) - available
    await assert_nothing_stored(client, settings, account, reserved)
    assert not staged_path(settings, reserved["upload"]["id"]).exists()
    assert await storage_used(client, key) == TRIAL_QUOTA - available

    # what still fits goes through
    small = os.urandom(available)
    response = await client.put(local_target(reserved["upload"]["url"]), content=small)
    assert response.status_code == 204, response.text
    assert await storage_used(client, key) == TRIAL_QUOTA


async def test_reserving_more_than_the_plan_storage_is_402(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    key = account.private_key
    response = await client.post(
        "/v1/videos/uploads/reserve",
        json={"filename": "clip.mp4", "size_bytes": TRIAL_QUOTA + 1},
        headers=bearer(key),
    )
    body = assert_problem(response, 402, "storage_quota_exceeded")
    assert body["required"] == TRIAL_QUOTA + 1
    assert body["available"] == TRIAL_QUOTA
    assert body["shortfall"] == 1

    await set_storage_used(db, account.account.id, TRIAL_QUOTA - 10)
    response = await client.post(
        "/v1/videos/uploads/reserve",
        json={"filename": "clip.mp4", "size_bytes": 11},
        headers=bearer(key),
    )
    body = assert_problem(response, 402, "storage_quota_exceeded")
    assert (body["required"], body["available"], body["shortfall"]) == (11, 10, 1)
    listed = await client.get("/v1/videos", headers=bearer(key))
    assert listed.status_code == 200
    assert listed.json()["data"] == []


@pytest_asyncio.fixture
async def small_max_client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app with `max_upload_bytes` of 1 MiB."""
    settings = make_settings(database_url, tmp_path, max_upload_bytes=MIB)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as c:
            c.app = app  # type: ignore[attr-defined]
            c.settings = settings  # type: ignore[attr-defined]
            yield c


async def test_files_over_the_upload_limit_are_413(small_max_client: httpx.AsyncClient) -> None:
    client = small_max_client
    settings: Settings = client.settings  # type: ignore[attr-defined]
    account = await make_account(client.app.state.db)  # type: ignore[attr-defined]
    key = account.private_key

    response = await client.post(
        "/v1/videos/uploads/reserve",
        json={"filename": "clip.mp4", "size_bytes": MIB + 1},
        headers=bearer(key),
    )
    body = assert_problem(response, 413, "payload_too_large")
    assert body["max_bytes"] == MIB

    reserved = await reserve(client, key)
    target = local_target(reserved["upload"]["url"])
    data = os.urandom(MIB + 1)
    body = assert_problem(await client.put(target, content=data), 413, "payload_too_large")
    assert body["max_bytes"] == MIB

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 128 * 1024):
            yield data[start : start + 128 * 1024]

    assert_problem(await client.put(target, content=chunks()), 413, "payload_too_large")
    await assert_nothing_stored(client, settings, account, reserved)
    assert not staged_path(settings, reserved["upload"]["id"]).exists()
    assert await storage_used(client, key) == 0

    # exactly the limit is fine
    exact = os.urandom(MIB)
    assert (await client.put(target, content=exact)).status_code == 204
    assert source_path(settings, account.account.id, reserved["video"]["id"]).read_bytes() == exact


async def test_a_reserved_video_belongs_to_its_account_only(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    reserved = await reserve(client, account.private_key, size_bytes=10)
    video_id = reserved["video"]["id"]
    stranger = await make_account(db)
    response = await client.get(f"/v1/videos/{video_id}", headers=bearer(stranger.private_key))
    assert_problem(response, 404, "video_not_found")
    listed = await client.get("/v1/videos", headers=bearer(stranger.private_key))
    assert [v["id"] for v in listed.json()["data"]] == []
    # and the owner sees it
    assert (await video_status(client, account.private_key, video_id))["id"] == video_id


async def test_a_put_racing_a_completing_put_is_refused(
    client: httpx.AsyncClient,
    account: NewAccount,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """B holds the upload (its read is slowed down); A, arriving meanwhile, is told the upload is
    busy; B completes; a later PUT finds it complete. The file is stored and counted once."""
    data_a, data_b = os.urandom(50_000), os.urandom(50_000)
    key = account.private_key
    reserved = await reserve(client, key, size_bytes=len(data_a))
    target = local_target(reserved["upload"]["url"])
    loaded, release = asyncio.Event(), asyncio.Event()
    real_load = uploads_api._load

    async def gated_load(request: Any, *args: Any) -> Any:
        found = await real_load(request, *args)
        if request.headers.get("x-test-hold"):
            loaded.set()
            await release.wait()
        return found

    monkeypatch.setattr(uploads_api, "_load", gated_load)
    late = asyncio.create_task(client.put(target, content=data_b, headers={"X-Test-Hold": "1"}))
    await asyncio.wait_for(loaded.wait(), 10)
    assert_problem(await client.put(target, content=data_a), 423, "upload_locked")
    release.set()
    assert (await asyncio.wait_for(late, 10)).status_code == 204
    assert_problem(await client.put(target, content=data_a), 409, "upload_completed")

    assert await storage_used(client, key) == len(data_b)
    assert source_path(settings, account.account.id, reserved["video"]["id"]).read_bytes() == data_b
