"""Upload bytes land on local disk first, then go to storage in one move (a rename on local disk).

Writes are coalesced into ~1 MiB blocks and done in a thread, so the event loop never waits on
the disk and memory stays flat whatever the file size.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

FLUSH_BYTES = 1024 * 1024
_UPLOAD_ID = re.compile(r"^upl_[0-9a-z]{26}$")


class StagingArea:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> StagingArea:
        return cls(data_dir / "uploads")

    def upload_path(self, upload_id: str) -> Path:
        """Where a reserved upload's bytes accumulate (tus resumes from its size)."""
        if not _UPLOAD_ID.match(upload_id):
            raise ValueError("not an upload id")
        return self.root / f"{upload_id}.part"

    def temp_path(self) -> Path:
        return self.root / f"incoming-{uuid.uuid4().hex}.part"


class UploadBusy(Exception):
    """Another request (or the expiry job) is working on this upload."""


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """One writer per staged upload across the processes sharing this disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadBusy from None
        yield
    finally:
        os.close(fd)


def forget(path: Path) -> None:
    """Remove a finished upload's staged file and lock file (call after its state committed)."""
    path.unlink(missing_ok=True)
    path.with_suffix(".lock").unlink(missing_ok=True)


class StagedFile:
    """An append-only file fed from async code; `size` counts bytes accepted so far."""

    def __init__(self, path: Path, *, append: bool = False) -> None:
        self.path = path
        self.size = path.stat().st_size if append and path.exists() else 0
        self._append = append
        self._file: BinaryIO | None = None
        self._pending: list[bytes] = []
        self._pending_size = 0

    async def open(self) -> StagedFile:
        def _open() -> BinaryIO:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return self.path.open("ab" if self._append else "wb", buffering=0)

        self._file = await asyncio.to_thread(_open)
        return self

    async def write(self, data: bytes) -> None:
        self._pending.append(data)
        self._pending_size += len(data)
        self.size += len(data)
        if self._pending_size >= FLUSH_BYTES:
            await self._flush()

    async def _flush(self) -> None:
        if self._pending and self._file is not None:
            parts, self._pending, self._pending_size = self._pending, [], 0
            # One gathered write: the request's chunks go to the kernel without being copied
            # into a block first.
            await asyncio.to_thread(_write_all, self._file.fileno(), parts)

    async def close(self) -> None:
        """Flush what was accepted and make it durable (kept on errors too: tus resumes)."""
        if self._file is None:
            return
        try:
            await self._flush()
            file = self._file

            def _sync() -> None:
                file.flush()
                os.fsync(file.fileno())

            await asyncio.to_thread(_sync)
        finally:
            await asyncio.to_thread(self._file.close)
            self._file = None

    async def discard(self) -> None:
        if self._file is not None:
            await asyncio.to_thread(self._file.close)
            self._file = None
        self._pending, self._pending_size = [], 0
        await asyncio.to_thread(self.path.unlink, True)


def _write_all(fd: int, parts: list[bytes]) -> None:
    views = [memoryview(p) for p in parts]
    while views:
        written = os.writev(fd, views[:1024])  # IOV_MAX
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if written and views:
            views[0] = views[0][written:]
