"""One suite over both back ends (local directory, S3 through moto), plus keys and the factory."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import httpx
import pytest

from moviie.config import Settings
from moviie.storage import ObjectNotFound, Storage, local, open_storage, video_key, video_prefix
from moviie.storage.local import LocalStorage
from moviie.storage.s3 import S3Storage
from tests.storage.conftest import BUCKET, Backend

MIB = 1024 * 1024
INVALID_KEYS = ["../x", "/abs", "a//b", "a/./b", "a\x00b", "a b", "", "a/", "x" * 1025]


async def stream(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def failing(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    raise RuntimeError("client went away")


async def read(storage: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.get_range(key, start, end)])


async def test_round_trip(storage: Storage) -> None:
    info = await storage.put_stream("a/b/c.txt", stream([b"hello ", b"", b"world"]))
    assert (info.key, info.size) == ("a/b/c.txt", 11)
    assert await read(storage, "a/b/c.txt") == b"hello world"
    stat = await storage.stat("a/b/c.txt")
    assert stat is not None
    assert stat.size == 11


async def test_overwrite_replaces_whole_object(storage: Storage) -> None:
    await storage.put_stream("k", stream([b"a much longer first version"]))
    await storage.put_stream("k", stream([b"short"]))
    assert await read(storage, "k") == b"short"


async def test_empty_object(storage: Storage) -> None:
    info = await storage.put_stream("empty", stream([]))
    assert info.size == 0
    assert await read(storage, "empty") == b""
    assert await read(storage, "empty", 0, 10) == b""


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (3, None, b"3456789"),
        (2, 5, b"234"),
        (8, 50, b"89"),
        (4, 4, b""),
        (10, None, b""),
        (12, 20, b""),
        (0, None, b"0123456789"),
    ],
)
async def test_ranges(storage: Storage, start: int, end: int | None, expected: bytes) -> None:
    await storage.put_stream("r", stream([b"01234", b"56789"]))
    assert await read(storage, "r", start, end) == expected


async def test_bad_ranges(storage: Storage) -> None:
    await storage.put_stream("r", stream([b"0123"]))
    with pytest.raises(ValueError):
        storage.get_range("r", -1)
    with pytest.raises(ValueError):
        storage.get_range("r", 3, 2)


async def test_missing(storage: Storage) -> None:
    assert await storage.stat("nope/x") is None
    for start, end in [(0, None), (5, None), (2, 8), (3, 3)]:
        with pytest.raises(ObjectNotFound):
            await read(storage, "nope/x", start, end)


async def test_a_prefix_is_not_an_object(storage: Storage) -> None:
    await storage.put_stream("dir/leaf", stream([b"x"]))
    assert await storage.stat("dir") is None
    with pytest.raises(ObjectNotFound):
        await read(storage, "dir")


async def test_delete_prefix(storage: Storage) -> None:
    keep = ["accounts/a/videos/v10/x", "accounts/a/videos/v1.json", "accounts/b/videos/v1/x"]
    gone = [video_key("a", "v1", n) for n in ("source", "hls/master.m3u8", "hls/720p/seg0.m4s")]
    for key in keep + gone:
        await storage.put_stream(key, stream([key.encode()]))
    assert await storage.delete_prefix(video_prefix("a", "v1")) == 3
    for key in gone:
        assert await storage.stat(key) is None
    for key in keep:
        assert await read(storage, key) == key.encode()
    assert await storage.delete_prefix(video_prefix("a", "v1")) == 0
    with pytest.raises(ValueError):
        await storage.delete_prefix("accounts/a")


async def test_failed_stream_leaves_nothing(backend: Backend) -> None:
    storage = backend.storage
    # Bigger than one multipart part (5 MiB) so S3 has parts to abort.
    parts = [os.urandom(MIB)] * 7
    with pytest.raises(RuntimeError, match="client went away"):
        await storage.put_stream("v/source", failing(parts))
    assert await storage.stat("v/source") is None
    assert backend.leftovers() == []
    # And an earlier version under the key survives a failed overwrite.
    await storage.put_stream("v/source", stream([b"old"]))
    with pytest.raises(RuntimeError):
        await storage.put_stream("v/source", failing([b"new"]))
    assert await read(storage, "v/source") == b"old"
    assert backend.leftovers() == []


async def test_cancelled_stream_leaves_nothing(backend: Backend) -> None:
    started = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield os.urandom(6 * MIB)  # past one multipart part
        started.set()
        await asyncio.Event().wait()
        yield b"never"

    upload = asyncio.create_task(backend.storage.put_stream("c/source", stalled()))
    await started.wait()
    for _ in range(100):  # until the temp file / the multipart upload exists
        if backend.leftovers():
            break
        await asyncio.sleep(0.02)
    assert backend.leftovers() != []
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload
    assert await backend.storage.stat("c/source") is None
    assert backend.leftovers() == []


async def test_put_file(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "upload.bin"
    data = os.urandom(3 * MIB + 17)
    source.write_bytes(data)
    info = await storage.put_file("f/copy", source)
    assert info.size == len(data)
    assert source.exists()
    info = await storage.put_file("f/moved", source, move=True)
    assert info.size == len(data)
    assert not source.exists()
    assert await read(storage, "f/copy") == data
    assert await read(storage, "f/moved") == data
    with pytest.raises(FileNotFoundError):
        await storage.put_file("f/none", tmp_path / "absent")


async def test_big_streamed_object(storage: Storage) -> None:
    data = os.urandom(20 * MIB)
    parts = [data[i : i + 65536] for i in range(0, len(data), 65536)]
    info = await storage.put_stream("big/source", stream(parts))
    assert info.size == len(data)
    digest = hashlib.sha256()
    largest = 0
    async for chunk in storage.get_range("big/source"):
        digest.update(chunk)
        largest = max(largest, len(chunk))
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert largest <= MIB
    assert await read(storage, "big/source", 7 * MIB + 3, 9 * MIB) == data[7 * MIB + 3 : 9 * MIB]


async def test_presign_get(backend: Backend) -> None:
    await backend.storage.put_stream("p/poster.jpg", stream([b"jpeg bytes"]))
    url = await backend.storage.presign_get("p/poster.jpg", 60)
    if backend.name == "local":
        assert url is None
        return
    assert url is not None
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.content == b"jpeg bytes"


@pytest.mark.parametrize("key", INVALID_KEYS)
async def test_invalid_keys(storage: Storage, key: str, tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"x")
    with pytest.raises(ValueError):
        await storage.put_stream(key, stream([b"x"]))
    with pytest.raises(ValueError):
        await storage.put_file(key, source)
    with pytest.raises(ValueError):
        storage.get_range(key)
    with pytest.raises(ValueError):
        await storage.stat(key)
    with pytest.raises(ValueError):
        await storage.delete_prefix(key + "/")
    with pytest.raises(ValueError):
        await storage.presign_get(key, 60)
    assert source.exists()


# Local only: what a directory adds (temp dir, symlinks, rename vs copy).


async def test_local_tmp_dir_is_reserved(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    with pytest.raises(ValueError):
        await storage.put_stream(".tmp/x", stream([b"x"]))
    with pytest.raises(ValueError):
        await storage.delete_prefix(".tmp/")


async def test_local_symlink_out_of_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "media"
    storage = LocalStorage(root)
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(ValueError):
        await storage.put_stream("link/x", stream([b"x"]))
    assert not (tmp_path / "outside" / "x").exists()


async def test_local_move_across_filesystems_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path / "media")
    source = tmp_path / "src.bin"
    source.write_bytes(b"payload")
    real_replace = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        if Path(src) == source:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    info = await storage.put_file("m/x", source, move=True)
    assert info.size == 7
    assert not source.exists()
    assert (tmp_path / "media" / "m" / "x").read_bytes() == b"payload"
    assert list((tmp_path / "media" / ".tmp").iterdir()) == []


async def test_local_early_flushes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "FLUSH_EVERY", 2 * MIB)
    storage = LocalStorage(tmp_path / "media")
    data = os.urandom(9 * MIB + 5)
    parts = [data[i : i + 65536] for i in range(0, len(data), 65536)]
    assert (await storage.put_stream("e/x", stream(parts))).size == len(data)
    assert (tmp_path / "media" / "e" / "x").read_bytes() == data


async def test_local_move_renames(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    source = tmp_path / "src.bin"
    source.write_bytes(b"payload")
    inode = source.stat().st_ino
    await storage.put_file("m/x", source, move=True)
    assert (tmp_path / "media" / "m" / "x").stat().st_ino == inode


# Keys and the factory.


def test_key_builders() -> None:
    assert video_prefix("acc_1", "vid_2") == "accounts/acc_1/videos/vid_2/"
    assert (
        video_key("acc_1", "vid_2", "hls/720p.m3u8") == "accounts/acc_1/videos/vid_2/hls/720p.m3u8"
    )
    for bad in ("../x", "a b", "/x", ""):
        with pytest.raises(ValueError):
            video_key("acc_1", "vid_2", bad)
    with pytest.raises(ValueError):
        video_prefix("acc/../b", "v")


def test_open_storage(tmp_path: Path) -> None:
    default = open_storage(Settings(data_dir=tmp_path))
    assert isinstance(default, LocalStorage)
    assert default.root == (tmp_path / "media").resolve()

    local = open_storage(Settings(data_dir=tmp_path, storage_url=f"file://{tmp_path}/m"))
    assert isinstance(local, LocalStorage)
    assert local.root == (tmp_path / "m").resolve()

    s3 = open_storage(
        Settings(storage_url=f"s3://{BUCKET}/some/prefix/", s3_endpoint_url="http://127.0.0.1:9")
    )
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix) == (BUCKET, "some/prefix")
    bare = open_storage(Settings(storage_url=f"s3://{BUCKET}"))
    assert isinstance(bare, S3Storage)
    assert bare.prefix == ""

    for url in ("file://relative/x", "s3:///prefix", "s3://b/../x", "http://x/y", "/abs", "x"):
        with pytest.raises(ValueError, match="MOVIIE_STORAGE_URL"):
            open_storage(Settings(storage_url=url))
