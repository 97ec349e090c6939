"""The signed upload URL speaking tus 1.0: a real tus client, the raw protocol, and a client
that goes away mid-chunk."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from tusclient import client as tus_client

from moviie.accounts.service import NewAccount
from moviie.app import create_app
from moviie.config import Settings
from moviie.uploads import api as uploads_api
from tests.conftest import make_account, make_settings
from tests.http.test_errors import assert_problem
from tests.uploads.test_signed_upload import (
    local_target,
    reserve,
    source_path,
    staged_path,
    storage_used,
    video_status,
)

KIB = 1024
MIB = 1024 * KIB
TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


def patch_headers(offset: int, **extra: str) -> dict[str, str]:
    return {**TUS, "Content-Type": OCTETS, "Upload-Offset": str(offset), **extra}


def sha1_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data).digest()).decode()


async def head_offset(client: httpx.AsyncClient, target: str) -> int:
    response = await client.head(target, headers=TUS)
    assert response.status_code == 200, response.headers
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Cache-Control"] == "no-store"
    return int(response.headers["Upload-Offset"])


@pytest_asyncio.fixture
async def live(live_api: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_api, timeout=30) as c:
        yield c


# --- a real tus client (tuspy) against a real server --------------------------------------


async def test_tuspy_uploads_in_chunks(
    live: httpx.AsyncClient,
    live_api: str,
    account: NewAccount,
    settings: Settings,
    tmp_path: Path,
) -> None:
    data = os.urandom(3 * MIB + 777)
    file = tmp_path / "clip.mp4"
    file.write_bytes(data)
    key = account.private_key
    reserved = await reserve(live, key, size_bytes=len(data))
    tus_url = reserved["upload"]["tus_url"]
    assert tus_url.startswith(live_api + "/uploads/")

    def upload() -> None:
        uploader = tus_client.TusClient(live_api).uploader(
            file_path=str(file), url=tus_url, chunk_size=MIB
        )
        assert uploader.offset == 0
        uploader.upload()
        assert uploader.offset == len(data)

    await asyncio.to_thread(upload)

    video = await video_status(live, key, reserved["video"]["id"])
    assert video["status"] == "processing"
    assert video["size_bytes"] == len(data)
    assert source_path(settings, account.account.id, video["id"]).read_bytes() == data
    assert await storage_used(live, key) == len(data)
    assert await head_offset(live, tus_url) == len(data)


async def test_tuspy_resumes_an_interrupted_upload(
    live: httpx.AsyncClient,
    live_api: str,
    account: NewAccount,
    settings: Settings,
    tmp_path: Path,
) -> None:
    chunk = 512 * KIB
    data = os.urandom(5 * chunk + 99)
    file = tmp_path / "clip.mp4"
    file.write_bytes(data)
    key = account.private_key
    reserved = await reserve(live, key, size_bytes=len(data))
    tus_url = reserved["upload"]["tus_url"]

    def first_part() -> None:
        uploader = tus_client.TusClient(live_api).uploader(
            file_path=str(file), url=tus_url, chunk_size=chunk
        )
        uploader.upload_chunk()
        uploader.upload_chunk()
        assert uploader.offset == 2 * chunk
        # ... and the client goes away

    await asyncio.to_thread(first_part)
    assert await head_offset(live, tus_url) == 2 * chunk
    video = await video_status(live, key, reserved["video"]["id"])
    assert video["status"] == "uploading"
    assert not source_path(settings, account.account.id, video["id"]).exists()
    assert await storage_used(live, key) == 0

    def resume() -> None:
        uploader = tus_client.TusClient(live_api).uploader(
            file_path=str(file), url=tus_url, chunk_size=chunk
        )
        assert uploader.offset == 2 * chunk  # from HEAD
        uploader.upload()
        assert uploader.offset == len(data)

    await asyncio.to_thread(resume)
    video = await video_status(live, key, reserved["video"]["id"])
    assert video["status"] == "processing"
    assert video["size_bytes"] == len(data)
    assert source_path(settings, account.account.id, video["id"]).read_bytes() == data
    assert await storage_used(live, key) == len(data)


# --- the raw protocol ----------------------------------------------------------------------


async def test_options_advertises_the_server(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings
) -> None:
    reserved = await reserve(client, account.private_key, size_bytes=10)
    response = await client.options(local_target(reserved["upload"]["tus_url"]))
    assert response.status_code == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert "1.0.0" in response.headers["Tus-Version"].split(",")
    extensions = response.headers["Tus-Extension"].split(",")
    assert {"creation-defer-length", "checksum", "expiration"} <= set(extensions)
    assert int(response.headers["Tus-Max-Size"]) == settings.max_upload_bytes
    assert "sha1" in response.headers["Tus-Checksum-Algorithm"].split(",")


async def test_head_reports_offset_and_length(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    sized = await reserve(client, account.private_key, size_bytes=1234)
    response = await client.head(local_target(sized["upload"]["tus_url"]), headers=TUS)
    assert response.status_code == 200
    assert response.headers["Upload-Offset"] == "0"
    assert response.headers["Upload-Length"] == "1234"
    assert "Upload-Defer-Length" not in response.headers
    assert response.headers["Upload-Expires"].endswith("GMT")

    deferred = await reserve(client, account.private_key)
    response = await client.head(local_target(deferred["upload"]["tus_url"]), headers=TUS)
    assert response.status_code == 200
    assert response.headers["Upload-Offset"] == "0"
    assert response.headers["Upload-Defer-Length"] == "1"
    assert "Upload-Length" not in response.headers


async def test_protocol_errors(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings
) -> None:
    data = os.urandom(300 * KIB)
    key = account.private_key
    reserved = await reserve(client, key, size_bytes=len(data))
    target = local_target(reserved["upload"]["tus_url"])
    upload_id = reserved["upload"]["id"]
    first, second = data[: 100 * KIB], data[100 * KIB :]

    # without Tus-Resumable: 412 naming the versions spoken
    response = await client.head(target)
    assert response.status_code == 412
    assert response.headers["Tus-Version"] == "1.0.0"
    no_version = {"Content-Type": OCTETS, "Upload-Offset": "0"}
    response = await client.patch(target, content=first, headers=no_version)
    assert_problem(response, 412, "tus_version_unsupported")
    assert response.headers["Tus-Version"] == "1.0.0"
    wrong_version = patch_headers(0, **{"Tus-Resumable": "0.2.2"})
    assert (await client.patch(target, content=first, headers=wrong_version)).status_code == 412

    # the chunk's content type
    response = await client.patch(
        target, content=first, headers=patch_headers(0, **{"Content-Type": "video/mp4"})
    )
    assert_problem(response, 415, "unsupported_media_type")
    assert response.headers["Tus-Resumable"] == "1.0.0"

    # Upload-Offset missing or malformed
    missing = {**TUS, "Content-Type": OCTETS}
    assert_problem(
        await client.patch(target, content=first, headers=missing), 400, "invalid_tus_header"
    )
    response = await client.patch(
        target, content=first, headers=patch_headers(0, **{"Upload-Offset": "-1"})
    )
    assert_problem(response, 400, "invalid_tus_header")
    # a length other than the reserved one
    response = await client.patch(
        target, content=first, headers=patch_headers(0, **{"Upload-Length": str(len(data) + 1)})
    )
    assert_problem(response, 400, "invalid_tus_header")
    assert await head_offset(client, target) == 0

    # an offset other than the stored one
    body = assert_problem(
        await client.patch(target, content=first, headers=patch_headers(5)),
        409,
        "upload_offset_mismatch",
    )
    assert body["offset"] == 0
    assert await head_offset(client, target) == 0

    response = await client.patch(target, content=first, headers=patch_headers(0))
    assert response.status_code == 204, response.text
    assert response.headers["Upload-Offset"] == str(len(first))
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert await head_offset(client, target) == len(first)
    body = assert_problem(
        await client.patch(target, content=second, headers=patch_headers(0)),
        409,
        "upload_offset_mismatch",
    )
    assert body["offset"] == len(first)

    # past the declared length: 413, and nothing of it kept
    too_much = second + b"x"
    response = await client.patch(target, content=too_much, headers=patch_headers(len(first)))
    assert_problem(response, 413, "payload_too_large")
    assert await head_offset(client, target) == len(first)
    assert staged_path(settings, upload_id).read_bytes() == first

    # a checksum that does not match: 460, the chunk dropped
    bad = patch_headers(len(first), **{"Upload-Checksum": f"sha1 {sha1_b64(b'other')}"})
    response = await client.patch(target, content=second, headers=bad)
    assert_problem(response, 460, "checksum_mismatch")
    assert await head_offset(client, target) == len(first)
    assert staged_path(settings, upload_id).read_bytes() == first
    # an unknown algorithm or a malformed value: 400
    for value in ("crc32 AAAA", "sha1", "sha1 not-base64!"):
        response = await client.patch(
            target, content=second, headers=patch_headers(len(first), **{"Upload-Checksum": value})
        )
        assert_problem(response, 400, "invalid_tus_header")
    assert await head_offset(client, target) == len(first)

    # the right checksum completes the upload
    good = patch_headers(len(first), **{"Upload-Checksum": f"sha1 {sha1_b64(second)}"})
    response = await client.patch(target, content=second, headers=good)
    assert response.status_code == 204, response.text
    assert response.headers["Upload-Offset"] == str(len(data))
    video = await video_status(client, key, reserved["video"]["id"])
    assert video["status"] == "processing"
    assert video["size_bytes"] == len(data)
    assert source_path(settings, account.account.id, video["id"]).read_bytes() == data
    assert await storage_used(client, key) == len(data)

    # a completed upload takes no more chunks, nor a PUT
    response = await client.patch(target, content=b"more", headers=patch_headers(len(data)))
    assert_problem(response, 409, "upload_completed")
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert_problem(await client.put(target, content=b"more"), 409, "upload_completed")
    response = await client.head(target, headers=TUS)
    assert response.headers["Upload-Offset"] == str(len(data))
    assert response.headers["Upload-Length"] == str(len(data))
    assert await storage_used(client, key) == len(data)


async def test_a_deferred_length_upload_ends_with_upload_length(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings
) -> None:
    data = os.urandom(700 * KIB + 3)
    key = account.private_key
    reserved = await reserve(client, key)  # no size: the length comes later
    target = local_target(reserved["upload"]["tus_url"])
    cut = 400 * KIB

    response = await client.patch(target, content=data[:cut], headers=patch_headers(0))
    assert response.status_code == 204, response.text
    response = await client.head(target, headers=TUS)
    assert response.headers["Upload-Offset"] == str(cut)
    assert response.headers["Upload-Defer-Length"] == "1"
    video = await video_status(client, key, reserved["video"]["id"])
    assert video["status"] == "uploading"

    final = patch_headers(cut, **{"Upload-Length": str(len(data))})
    response = await client.patch(target, content=data[cut:], headers=final)
    assert response.status_code == 204, response.text
    assert response.headers["Upload-Offset"] == str(len(data))

    video = await video_status(client, key, reserved["video"]["id"])
    assert video["status"] == "processing"
    assert video["size_bytes"] == len(data)
    assert source_path(settings, account.account.id, video["id"]).read_bytes() == data
    assert await storage_used(client, key) == len(data)
    response = await client.head(target, headers=TUS)
    assert response.headers["Upload-Length"] == str(len(data))
    assert "Upload-Defer-Length" not in response.headers


async def test_a_length_declared_later_is_kept(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings
) -> None:
    """`Upload-Length` sent on a middle chunk binds the rest of the upload."""
    data = os.urandom(200 * KIB)
    reserved = await reserve(client, account.private_key)
    target = local_target(reserved["upload"]["tus_url"])
    half = len(data) // 2
    headers = patch_headers(0, **{"Upload-Length": str(len(data))})
    assert (await client.patch(target, content=data[:half], headers=headers)).status_code == 204
    response = await client.head(target, headers=TUS)
    assert response.headers["Upload-Length"] == str(len(data))
    assert "Upload-Defer-Length" not in response.headers
    # another length is refused now; going past it is 413
    other = patch_headers(half, **{"Upload-Length": str(len(data) + 5)})
    assert_problem(
        await client.patch(target, content=data[half:], headers=other), 400, "invalid_tus_header"
    )
    response = await client.patch(target, content=data[half:] + b"!", headers=patch_headers(half))
    assert_problem(response, 413, "payload_too_large")
    assert await head_offset(client, target) == half
    assert (
        await client.patch(target, content=data[half:], headers=patch_headers(half))
    ).status_code == 204
    assert source_path(settings, account.account.id, reserved["video"]["id"]).read_bytes() == data


async def test_a_declared_length_below_the_offset_is_refused(
    client: httpx.AsyncClient, account: NewAccount, settings: Settings
) -> None:
    data = os.urandom(1000)
    reserved = await reserve(client, account.private_key)
    target = local_target(reserved["upload"]["tus_url"])
    response = await client.patch(target, content=data, headers=patch_headers(0))
    assert response.status_code == 204
    response = await client.patch(
        target, content=b"", headers=patch_headers(1000, **{"Upload-Length": "500"})
    )
    assert response.status_code in (400, 413), response.text
    head = await client.head(target, headers=TUS)
    assert head.headers["Upload-Offset"] == "1000"
    assert head.headers["Upload-Defer-Length"] == "1"
    assert "Upload-Length" not in head.headers

    # an empty PATCH declaring the length reached so far ends the upload
    response = await client.patch(
        target, content=b"", headers=patch_headers(1000, **{"Upload-Length": "1000"})
    )
    assert response.status_code == 204, response.text
    video = await video_status(client, account.private_key, reserved["video"]["id"])
    assert (video["status"], video["size_bytes"]) == ("processing", 1000)
    assert source_path(settings, account.account.id, video["id"]).read_bytes() == data


async def test_a_patch_racing_a_completing_patch_is_refused(
    client: httpx.AsyncClient,
    account: NewAccount,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client retrying the whole file while its first attempt still runs: the retry is told
    the upload is busy, then that it is complete. The file is stored and counted once."""
    data_a, data_b = os.urandom(50_000), os.urandom(50_000)
    key = account.private_key
    reserved = await reserve(client, key, size_bytes=len(data_a))
    target = local_target(reserved["upload"]["tus_url"])
    loaded, release = asyncio.Event(), asyncio.Event()
    real_load = uploads_api._load

    async def gated_load(request: Any, *args: Any) -> Any:
        found = await real_load(request, *args)
        if request.headers.get("x-test-hold"):
            loaded.set()
            await release.wait()
        return found

    monkeypatch.setattr(uploads_api, "_load", gated_load)
    late = asyncio.create_task(
        client.patch(target, content=data_b, headers=patch_headers(0, **{"X-Test-Hold": "1"}))
    )
    await asyncio.wait_for(loaded.wait(), 10)
    retry = await client.patch(target, content=data_a, headers=patch_headers(0))
    assert_problem(retry, 423, "upload_locked")
    assert retry.headers["Tus-Resumable"] == "1.0.0"
    release.set()
    assert (await asyncio.wait_for(late, 10)).status_code == 204
    again = await client.patch(target, content=data_a, headers=patch_headers(0))
    assert_problem(again, 409, "upload_completed")

    assert await storage_used(client, key) == len(data_b)
    assert source_path(settings, account.account.id, reserved["video"]["id"]).read_bytes() == data_b


@pytest_asyncio.fixture
async def small_max_client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(database_url, tmp_path, max_upload_bytes=256 * KIB)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


async def test_tus_respects_the_upload_limit(small_max_client: httpx.AsyncClient) -> None:
    client = small_max_client
    account = await make_account(client.app.state.db)  # type: ignore[attr-defined]
    reserved = await reserve(client, account.private_key)
    target = local_target(reserved["upload"]["tus_url"])
    options = await client.options(target)
    assert options.headers["Tus-Max-Size"] == str(256 * KIB)
    # a declared length over the limit, and a deferred-length body over it
    response = await client.patch(
        target, content=b"abc", headers=patch_headers(0, **{"Upload-Length": str(256 * KIB + 1)})
    )
    assert_problem(response, 413, "payload_too_large")
    response = await client.patch(
        target, content=os.urandom(256 * KIB + 1), headers=patch_headers(0)
    )
    assert_problem(response, 413, "payload_too_large")
    assert await head_offset(client, target) == 0


# --- a client that goes away mid-chunk ------------------------------------------------------


def _send_partial_patch(
    base_url: str,
    target: str,
    offset: int,
    declared: int,
    body: bytes,
    checksum: str | None,
    lock_file: Path,
) -> None:
    """A PATCH announcing `declared` bytes, of which only `body` is sent before hanging up."""
    url = httpx.URL(base_url)
    lines = [
        f"PATCH {target} HTTP/1.1",
        f"Host: {url.host}:{url.port}",
        "Tus-Resumable: 1.0.0",
        f"Content-Type: {OCTETS}",
        f"Upload-Offset: {offset}",
        f"Content-Length: {declared}",
    ]
    if checksum:
        lines.append(f"Upload-Checksum: {checksum}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    assert url.port is not None
    with socket.create_connection((url.host, url.port), timeout=10) as sock:
        sock.sendall(head)
        sock.sendall(body)
        # Hang up only once the server is inside this request, holding the upload's lock (seen
        # in /proc/locks, which takes no lock itself), so no later step can overtake it.
        deadline = time.monotonic() + 10
        while not _flock_held(lock_file):
            assert time.monotonic() < deadline, "the server never took up the cut request"
            time.sleep(0.02)
        time.sleep(0.2)  # and takes in what was sent


def _flock_held(path: Path) -> bool:
    inode = f":{path.stat().st_ino}"
    locks = Path("/proc/locks").read_text().splitlines()
    return any(
        len(f) > 5 and f[1] == "FLOCK" and f[5].endswith(inode) for f in map(str.split, locks)
    )


async def _settled_offset(client: httpx.AsyncClient, target: str) -> int:
    """The offset once the server is done with the cut request: a zero-byte PATCH at HEAD's
    offset goes through only when no writer holds the upload and the offset is current."""
    deadline = time.monotonic() + 10
    while True:
        offset = await head_offset(client, target)
        response = await client.patch(target, content=b"", headers=patch_headers(offset))
        if response.status_code == 204:
            assert response.headers["Upload-Offset"] == str(offset)
            return offset
        assert response.status_code in (409, 423), response.text
        assert time.monotonic() < deadline, "the cut request never released the upload"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("with_checksum", [False, True], ids=["plain", "checksum"])
async def test_a_client_cut_mid_patch_resumes_from_what_was_stored(
    live: httpx.AsyncClient,
    live_api: str,
    account: NewAccount,
    settings: Settings,
    with_checksum: bool,
) -> None:
    data = os.urandom(2 * MIB)
    key = account.private_key
    reserved = await reserve(live, key, size_bytes=len(data))
    tus_url = reserved["upload"]["tus_url"]
    target = local_target(tus_url)
    upload_id = reserved["upload"]["id"]

    # a first whole chunk, then a chunk cut after part of its body
    first = 256 * KIB
    response = await live.patch(tus_url, content=data[:first], headers=patch_headers(0))
    assert response.status_code == 204, response.text
    chunk = data[first : first + MIB]
    sent = 384 * KIB
    checksum = f"sha1 {sha1_b64(chunk)}" if with_checksum else None
    await asyncio.to_thread(
        _send_partial_patch,
        live_api,
        target,
        first,
        len(chunk),
        chunk[:sent],
        checksum,
        staged_path(settings, upload_id).with_suffix(".lock"),
    )

    offset = await _settled_offset(live, tus_url)
    if with_checksum:
        # a partial chunk cannot be verified: none of it is kept
        assert offset == first
    else:
        assert first <= offset <= first + sent
    staged = staged_path(settings, upload_id)
    assert staged.stat().st_size == offset
    assert staged.read_bytes() == data[:offset]
    video = await video_status(live, key, reserved["video"]["id"])
    assert video["status"] == "uploading"
    assert await storage_used(live, key) == 0

    response = await live.patch(tus_url, content=data[offset:], headers=patch_headers(offset))
    assert response.status_code == 204, response.text
    assert response.headers["Upload-Offset"] == str(len(data))
    video = await video_status(live, key, reserved["video"]["id"])
    assert video["status"] == "processing"
    assert video["size_bytes"] == len(data)
    assert source_path(settings, account.account.id, video["id"]).read_bytes() == data
    assert await storage_used(live, key) == len(data)
    assert not staged.exists()


async def test_the_live_server_refuses_bad_signatures_over_tus(
    live: httpx.AsyncClient, account: NewAccount, settings: Settings
) -> None:
    data = os.urandom(10 * KIB)
    reserved = await reserve(live, account.private_key, size_bytes=len(data))
    url = httpx.URL(reserved["upload"]["tus_url"])
    signature = url.params["signature"]
    tampered = url.copy_set_param(
        "signature", signature[:-1] + ("a" if signature[-1] != "a" else "b")
    )
    response = await live.patch(tampered, content=data, headers=patch_headers(0))
    assert_problem(response, 403, "invalid_upload_signature")
    assert (await live.head(tampered, headers=TUS)).status_code == 403
    assert not staged_path(settings, reserved["upload"]["id"]).exists()
    assert await head_offset(live, str(url)) == 0
