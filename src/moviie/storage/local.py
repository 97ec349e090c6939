"""Objects as files under a root directory: writes go to `.tmp/` and are renamed into place."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import stat
import threading
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from moviie.storage.base import READ_CHUNK, ObjectInfo, ObjectNotFound, check_range
from moviie.storage.keys import validate_key, validate_prefix

TMP_DIR = ".tmp"
# Writes are handed to a thread in batches this big: few thread hops for a 1 GiB upload.
WRITE_BATCH = 1024 * 1024
# Written data is pushed to disk every this many bytes, beside the upload, not all at the end.
FLUSH_EVERY = 64 * 1024 * 1024
_MISSING = (FileNotFoundError, NotADirectoryError)


class _TempFile:
    """A file in `.tmp/` written from worker threads, then renamed into place or discarded."""

    def __init__(self, tmp_dir: Path) -> None:
        self.path = tmp_dir / uuid.uuid4().hex
        # 0o666 minus the umask, like any file the process writes (mkstemp would force 0600).
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        # A write may still run in a thread when the task is cancelled: discard waits for it.
        self._lock = threading.Lock()

    def write(self, parts: list[bytes]) -> None:
        with self._lock:
            if self._fd < 0:
                return
            view = memoryview(parts[0] if len(parts) == 1 else b"".join(parts))
            while view:
                view = view[os.write(self._fd, view) :]

    def flush_early(self) -> None:
        """Push written data to disk while the upload goes on, so the final fsync is short."""
        with self._lock:
            if self._fd < 0:
                return
            fd = os.dup(self._fd)  # writes go on meanwhile; discard cannot close this one
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)

    def commit(self, dest: Path, rest: list[bytes]) -> None:
        self.write(rest)
        with self._lock:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.path, dest)

    def discard(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            self.path.unlink(missing_ok=True)


class LocalStorage:
    """The embedded default: a directory on this machine (atomic via rename, same filesystem)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._tmp = self.root / TMP_DIR
        self._tmp.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        validate_key(key)
        if key.split("/", 1)[0] == TMP_DIR:
            raise ValueError(f"storage key is in the reserved {TMP_DIR!r} directory: {key!r}")
        # Defense in depth beside validate_key: a symlink inside root must not lead out of it.
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"storage key resolves outside the storage root: {key!r}")
        return path

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> ObjectInfo:
        dest = self._path(key)
        loop = asyncio.get_running_loop()
        tmp = _TempFile(self._tmp)  # one open(2), and no await before the try: nothing leaks
        size = 0
        batch: list[bytes] = []
        batched = 0
        # One write in flight while the next batch is received: disk and network overlap.
        pending: asyncio.Future[None] | None = None
        flushing: asyncio.Future[None] | None = None
        unflushed = 0
        try:
            async for chunk in chunks:
                batch.append(chunk)
                batched += len(chunk)
                if batched >= WRITE_BATCH:
                    if pending is not None:
                        await pending
                    pending = loop.run_in_executor(None, tmp.write, batch)
                    size += batched
                    unflushed += batched
                    batch, batched = [], 0
                    if unflushed >= FLUSH_EVERY and (flushing is None or flushing.done()):
                        flushing = loop.run_in_executor(None, tmp.flush_early)
                        unflushed = 0
            for future in (pending, flushing):
                if future is not None:
                    await future
            await asyncio.to_thread(tmp.commit, dest, batch)
        except BaseException:
            for future in (pending, flushing):
                if future is not None:
                    future.cancel()
            await asyncio.to_thread(tmp.discard)
            raise
        return ObjectInfo(key, size + batched)

    async def put_file(self, key: str, path: Path, *, move: bool = False) -> ObjectInfo:
        dest = self._path(key)
        return ObjectInfo(key, await asyncio.to_thread(self._put_file, dest, path, move))

    def _put_file(self, dest: Path, src: Path, move: bool) -> int:
        info = os.stat(src)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"not a regular file: {src}")
        if move:
            try:
                # The same durability as put_stream: the renamed file's data is on disk.
                _fsync_file(src)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dest)
                return info.st_size
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
        tmp = self._tmp / uuid.uuid4().hex
        try:
            shutil.copyfile(src, tmp)  # sendfile/copy_file_range on Linux
            _fsync_file(tmp)
            size = tmp.stat().st_size
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if move:
            src.unlink()
        return size

    def get_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self._path(key)
        check_range(start, end)
        return self._read(key, path, start, end)

    async def _read(
        self, key: str, path: Path, start: int, end: int | None
    ) -> AsyncIterator[bytes]:
        opened = await asyncio.to_thread(_open_regular, path)
        if opened is None:
            raise ObjectNotFound(key)
        fd, size = opened
        try:
            stop = size if end is None else min(end, size)
            pos = start
            while pos < stop:
                data = await asyncio.to_thread(os.pread, fd, min(READ_CHUNK, stop - pos), pos)
                if not data:  # truncated underneath us (not by this class: it only renames)
                    break
                pos += len(data)
                yield data
        finally:
            os.close(fd)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    async def stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            info = await asyncio.to_thread(os.stat, path)
        except _MISSING:
            return None
        return ObjectInfo(key, info.st_size) if stat.S_ISREG(info.st_mode) else None

    async def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        return await asyncio.to_thread(self._delete_tree, self._path(prefix[:-1]))

    def _delete_tree(self, path: Path) -> int:
        try:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                return 0
            # Moved away first: readers see the whole tree or none of it, never half of it.
            trash = self._tmp / f"del-{uuid.uuid4().hex}"
            os.replace(path, trash)
        except _MISSING:
            return 0
        count = sum(len(files) for _, _, files in os.walk(trash))
        shutil.rmtree(trash)
        return count

    async def presign_get(self, key: str, expires_s: int) -> str | None:
        self._path(key)
        return None  # the app serves local media itself

    async def close(self) -> None:
        return None


def _open_regular(path: Path) -> tuple[int, int] | None:
    """An open descriptor and the size of the regular file at `path`, or None."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except _MISSING:
        return None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return None
    return fd, info.st_size


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
