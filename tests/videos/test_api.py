"""The video library through HTTP, as a customer's backend uses it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from moviie.accounts.service import NewAccount
from moviie.config import Settings
from moviie.db.engine import Database
from moviie.db.models import Event
from tests.conftest import bearer, make_account
from tests.http.test_errors import assert_problem


def media_dir(settings: Settings, account_id: str, video_id: str) -> Path:
    return settings.data_dir / "media" / "accounts" / account_id / "videos" / video_id


async def upload(
    client: httpx.AsyncClient,
    key: str,
    content: bytes = b"\x00\x00\x00\x18ftypmp42" + os.urandom(4096),
    **fields: object,
) -> httpx.Response:
    data = {k: v for k, v in fields.items() if v is not None}
    return await client.post(
        "/v1/videos",
        headers=bearer(key),
        files={"file": ("clip.mp4", content, "video/mp4")},
        data=data,  # type: ignore[arg-type]
    )


async def event_types(db: Database, account_id: str) -> list[str]:
    async with db.transaction(write=False) as session:
        stmt = select(Event.type).where(Event.account_id == account_id).order_by(Event.id)
        return list((await session.scalars(stmt)).all())


async def test_a_multipart_upload_stores_the_file_and_starts_processing(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings, db: Database
) -> None:
    content = os.urandom(300_000)
    response = await upload(
        client,
        account.private_key,
        content,
        title="Keynote",
        reference_id="course-1/lesson-1",
        tags=["talk", "keynote"],
        metadata='{"course": "1"}',
    )
    assert response.status_code == 201, response.text
    video = response.json()
    assert video["id"].startswith("vid_")
    assert video["status"] == "processing"
    assert video["size_bytes"] == len(content)
    assert video["title"] == "Keynote"
    assert video["tags"] == ["talk", "keynote"]
    assert video["metadata"] == {"course": "1"}
    assert video["source"] == {"filename": "clip.mp4", "content_type": "video/mp4"}
    assert video["embed"].endswith(f"/embed/{video['id']}")
    stored = media_dir(settings, account.account.id, video["id"]) / "source"
    assert stored.read_bytes() == content
    assert not list((settings.data_dir / "uploads").glob("*.part"))
    me = (await client.get("/v1/me", headers=bearer(account.private_key))).json()
    assert me["usage"]["storage_bytes"] == len(content)
    assert await event_types(db, account.account.id) == ["video.created", "video.uploaded"]


async def test_file_names_never_become_paths(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings
) -> None:
    response = await client.post(
        "/v1/videos",
        headers=bearer(account.private_key),
        files={"file": ("../../../etc/passwd", b"data" * 100, "video/mp4")},
    )
    assert response.status_code == 201
    video = response.json()
    assert video["source"]["filename"] == "passwd"
    assert (media_dir(settings, account.account.id, video["id"]) / "source").exists()
    assert not (settings.data_dir.parent / "etc").exists()


async def test_bad_uploads_keep_nothing(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings, db: Database
) -> None:
    headers = bearer(account.private_key)
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
        b"Content-Type: video/mp4\r\n\r\n" + b"x" * 10_000
    )
    truncated = await client.post(
        "/v1/videos",
        content=body,
        headers={**headers, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert_problem(truncated, 400, "invalid_multipart")
    assert_problem(await upload(client, account.private_key, b""), 400, "empty_file")
    too_long = await upload(client, account.private_key, reference_id="r" * 256)
    body_json = assert_problem(too_long, 422, "validation_failed")
    assert ["body", "reference_id"] in [e["loc"] for e in body_json["errors"]]  # type: ignore[index]
    unknown = await upload(client, account.private_key, collection_ids=["col_nope"])
    assert_problem(unknown, 404, "collection_not_found")
    no_file = await client.post(
        "/v1/videos", headers=headers, data={"title": "x"}, files={"other": ("a", b"b")}
    )
    assert_problem(no_file, 422, "validation_failed")
    wrong_type = await client.post(
        "/v1/videos", headers={**headers, "Content-Type": "text/plain"}, content=b"hi"
    )
    assert_problem(wrong_type, 415, "unsupported_media_type")

    assert not list((settings.data_dir / "uploads").glob("*.part"))
    assert not (settings.data_dir / "media" / "accounts" / account.account.id).exists()
    me = (await client.get("/v1/me", headers=headers)).json()
    assert me["usage"]["storage_bytes"] == 0
    listed = (await client.get("/v1/videos", headers=headers)).json()
    assert listed["data"] == []
    assert await event_types(db, account.account.id) == []


async def test_an_upload_over_the_storage_quota_is_402(
    client: httpx.AsyncClient, account: NewAccount, db: Database, settings: Settings
) -> None:
    from moviie.db.models import Account
    from moviie.plans.catalog import get_plan

    quota = get_plan("trial").storage_bytes
    async with db.transaction() as session:
        row = await session.get(Account, account.account.id)
        assert row is not None
        row.storage_bytes = quota - 1000
    response = await upload(client, account.private_key, os.urandom(5000))
    body = assert_problem(response, 402, "storage_quota_exceeded")
    assert (body["required"], body["available"], body["shortfall"]) == (5000, 1000, 4000)
    assert not (settings.data_dir / "media" / "accounts" / account.account.id).exists()
    me = (await client.get("/v1/me", headers=bearer(account.private_key))).json()
    assert me["usage"]["storage_bytes"] == quota - 1000


async def test_listing_filters_and_search(client: httpx.AsyncClient, account: NewAccount) -> None:
    key = account.private_key
    a = (
        await upload(client, key, title="Intro to Rust", reference_id="ref-a", tags=["rust"])
    ).json()
    b = (
        await upload(
            client, key, title="Python tips", reference_id="ref-b", tags=["python", "tips"]
        )
    ).json()
    c = (await upload(client, key, title="50% off sale", description="Python and Rust")).json()

    async def ids(**params: str) -> list[str]:
        response = await client.get("/v1/videos", params=params, headers=bearer(key))
        assert response.status_code == 200, response.text
        return [v["id"] for v in response.json()["data"]]

    assert await ids() == [c["id"], b["id"], a["id"]]
    assert await ids(reference_id="ref-b") == [b["id"]]
    assert await ids(tag="python") == [b["id"]]
    assert await ids(q="rust") == [c["id"], a["id"]]
    assert await ids(q="50%") == [c["id"]]
    assert await ids(q="%") == [c["id"]]
    assert await ids(status="processing") == [c["id"], b["id"], a["id"]]
    assert await ids(status="ready") == []
    assert await ids(created_after=b["created_at"]) == [c["id"]]
    assert await ids(created_before=b["created_at"]) == [a["id"]]
    page = (await client.get("/v1/videos", params={"limit": "2"}, headers=bearer(key))).json()
    assert page["has_more"] is True
    rest = (
        await client.get(
            "/v1/videos", params={"limit": "2", "cursor": page["next_cursor"]}, headers=bearer(key)
        )
    ).json()
    assert [v["id"] for v in rest["data"]] == [a["id"]]
    bad = await client.get("/v1/videos", params={"status": "sleeping"}, headers=bearer(key))
    assert_problem(bad, 422, "validation_failed")


async def test_updating_a_video(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    key = account.private_key
    video = (await upload(client, key, title="Old", tags=["a"], reference_id="r1")).json()
    response = await client.patch(
        f"/v1/videos/{video['id']}",
        json={"title": "New", "tags": ["b", "c"], "privacy": "private", "metadata": {"k": "v"}},
        headers=bearer(key),
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["title"], updated["tags"], updated["privacy"], updated["metadata"]) == (
        "New",
        ["b", "c"],
        "private",
        {"k": "v"},
    )
    assert updated["reference_id"] == "r1"  # fields not sent are kept
    cleared = await client.patch(
        f"/v1/videos/{video['id']}", json={"reference_id": None}, headers=bearer(key)
    )
    assert cleared.json()["reference_id"] is None
    listed = (await client.get("/v1/videos", params={"tag": "a"}, headers=bearer(key))).json()
    assert listed["data"] == []
    for bad in (
        {"status": "ready"},
        {"privacy": "secret"},
        {"metadata": {"k": 1}},
        {"tags": ["x" * 101]},
    ):
        assert_problem(
            await client.patch(f"/v1/videos/{video['id']}", json=bad, headers=bearer(key)),
            422,
            "validation_failed",
        )
    assert (await event_types(db, account.account.id))[-2:] == ["video.updated", "video.updated"]


async def test_another_accounts_video_is_404(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    video = (await upload(client, account.private_key)).json()
    other = await make_account(db)
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method,
            f"/v1/videos/{video['id']}",
            headers=bearer(other.private_key),
            json={"title": "stolen"} if method == "PATCH" else None,
        )
        assert_problem(response, 404, "video_not_found")
    assert (
        await client.get(f"/v1/videos/{video['id']}", headers=bearer(account.private_key))
    ).json()["title"] == ""


async def test_scopes_and_publishable_keys(client: httpx.AsyncClient, account: NewAccount) -> None:
    reader = (
        await client.post(
            "/v1/api-keys",
            json={"name": "r", "scopes": ["videos:read"]},
            headers=bearer(account.private_key),
        )
    ).json()["key"]
    assert (await client.get("/v1/videos", headers=bearer(reader))).status_code == 200
    assert_problem(await upload(client, reader), 403, "insufficient_scope")
    assert_problem(
        await client.get("/v1/videos", headers=bearer(account.publishable_key)),
        403,
        "insufficient_scope",
    )


async def test_deleting_a_video_removes_its_media_and_usage(
    app_with_workers: FastAPI, account: NewAccount, settings: Settings, db: Database
) -> None:
    transport = httpx.ASGITransport(app=app_with_workers)
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        content = os.urandom(50_000)
        video = (await upload(client, account.private_key, content)).json()
        data_dir = app_with_workers.state.settings.data_dir
        stored = media_dir(app_with_workers.state.settings, account.account.id, video["id"])
        assert (stored / "source").exists()
        response = await client.delete(
            f"/v1/videos/{video['id']}", headers=bearer(account.private_key)
        )
        assert response.status_code == 204
        assert_problem(
            await client.get(f"/v1/videos/{video['id']}", headers=bearer(account.private_key)),
            404,
            "video_not_found",
        )
        me = (await client.get("/v1/me", headers=bearer(account.private_key))).json()
        assert me["usage"]["storage_bytes"] == 0
        for _ in range(100):  # the media goes in a durable job
            if not stored.exists():
                break
            await asyncio.sleep(0.1)
        assert not stored.exists(), list(data_dir.rglob("*"))
        listed = (await client.get("/v1/videos", headers=bearer(account.private_key))).json()
        assert listed["data"] == []
    assert (await event_types(db, account.account.id))[-1] == "video.deleted"


def test_a_multipart_upload_cut_by_the_client_keeps_nothing(
    live_api: str, account: NewAccount, settings: Settings
) -> None:
    import socket
    import time

    host, port = httpx.URL(live_api).host, httpx.URL(live_api).port
    head = (
        b'--cut\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
        b"Content-Type: video/mp4\r\n\r\n"
    )
    declared = len(head) + 4 * 1024 * 1024 + 100
    with socket.create_connection((host, port)) as sock:
        sock.sendall(
            b"POST /v1/videos HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {account.private_key}\r\n".encode()
            + b"Content-Type: multipart/form-data; boundary=cut\r\n"
            + f"Content-Length: {declared}\r\n\r\n".encode()
            + head
            + os.urandom(1024 * 1024)
        )
        time.sleep(0.3)
    listed: list[object] = []
    for _ in range(50):  # the server notices the disconnect and cleans up
        time.sleep(0.1)
        staged = list((settings.data_dir / "uploads").glob("*.part"))
        response = httpx.get(f"{live_api}/v1/videos", headers=bearer(account.private_key))
        listed = response.json()["data"]
        if not staged:
            break
    assert staged == []
    assert listed == []
    assert not (settings.data_dir / "media" / "accounts" / account.account.id).exists()
