"""The source file of a video as a path ffmpeg and PyAV can open, wherever storage keeps it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from moviie.storage.base import Storage
from moviie.storage.keys import video_key

SOURCE_OBJECT = "source"


def source_key(account_id: str, video_id: str) -> str:
    return video_key(account_id, video_id, SOURCE_OBJECT)


@contextlib.asynccontextmanager
async def local_file(storage: Storage, key: str, work_dir: Path) -> AsyncIterator[Path]:
    """The stored file itself on local storage; a temporary copy streamed from remote storage."""
    path = storage.local_path(key)
    if path is not None:
        yield path
        return
    out, copy = await asyncio.to_thread(_temp_file, work_dir)
    try:
        with out:
            async for chunk in storage.get_range(key):
                await asyncio.to_thread(out.write, chunk)
        yield copy
    finally:
        await asyncio.to_thread(copy.unlink, True)


def local_source(
    storage: Storage, account_id: str, video_id: str, work_dir: Path
) -> contextlib.AbstractAsyncContextManager[Path]:
    """A video's uploaded source as a local file (see `local_file`)."""
    return local_file(storage, source_key(account_id, video_id), work_dir)


def _temp_file(work_dir: Path) -> tuple[BinaryIO, Path]:
    work_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=work_dir, suffix=".source")
    return os.fdopen(fd, "wb"), Path(name)
