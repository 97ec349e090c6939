"""Objects in an S3-compatible bucket, through obstore (multipart uploads, streaming reads)."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterable, AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import obstore
from obstore.exceptions import GenericError, NotFoundError
from obstore.store import S3Store

from moviie.storage.base import READ_CHUNK, ObjectInfo, ObjectNotFound, check_range
from moviie.storage.keys import validate_key, validate_prefix

if TYPE_CHECKING:
    from obstore import GetOptions
    from obstore.store import ClientConfig, S3Config

# obstore raises the builtin FileNotFoundError for a 404; its own class is kept for safety.
_NOT_FOUND = (FileNotFoundError, NotFoundError)
# obstore's stream yields chunks of at least `min_chunk_size` plus up to one network read.
_STREAM_MIN_CHUNK = READ_CHUNK // 2
_FILE_CHUNK = 8 * 1024 * 1024
_DELETE_BATCH = 1000  # the most one DeleteObjects request takes


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with await asyncio.to_thread(path.open, "rb") as file:
        while chunk := await asyncio.to_thread(file.read, _FILE_CHUNK):
            yield chunk


class _Aborted(Exception):
    """Raised into obstore by the chunk source of a cancelled upload."""


class _AbortableChunks:
    """Chunks passed through to obstore, counted; `abort()` makes them raise from now on."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = aiter(chunks)
        self._aborted = False
        self._step: asyncio.Task[object] | None = None
        self.size = 0

    def __aiter__(self) -> _AbortableChunks:
        return self

    async def __anext__(self) -> bytes:
        if self._aborted:
            raise _Aborted
        # obstore awaits each step in a task of its own: the one to cancel on abort.
        self._step = asyncio.current_task()
        try:
            chunk = await anext(self._chunks)
        except asyncio.CancelledError:
            if self._aborted:
                raise _Aborted from None
            raise
        finally:
            self._step = None
        self.size += len(chunk)
        return chunk

    def abort(self) -> None:
        self._aborted = True
        if self._step is not None:
            self._step.cancel()


class S3Storage:
    """A bucket (and an optional prefix in it); credentials and region from the AWS_* env."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        config: S3Config = {}
        client: ClientConfig = {}
        if endpoint_url:
            config["endpoint"] = endpoint_url
            # Plain http only when the operator asked for it (MinIO, moto on loopback).
            client["allow_http"] = endpoint_url.startswith("http://")
        if region:
            config["region"] = region
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._store = S3Store(
            bucket, prefix=self.prefix or None, config=config, client_options=client
        )

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> ObjectInfo:
        validate_key(key)
        source = _AbortableChunks(chunks)
        # A multipart upload, completed only after the last chunk: S3 shows all or nothing.
        upload = asyncio.ensure_future(obstore.put_async(self._store, key, source))
        try:
            await asyncio.shield(upload)
        except asyncio.CancelledError:
            # Cancelling obstore's future drops the upload without aborting it (a hidden,
            # billed leftover); a failing source makes obstore abort it, so fail the source.
            source.abort()
            await asyncio.wait([upload])
            if not upload.cancelled():
                upload.exception()  # retrieved: the caller gets its CancelledError
            raise
        return ObjectInfo(key, source.size)

    async def put_file(self, key: str, path: Path, *, move: bool = False) -> ObjectInfo:
        validate_key(key)
        info = await asyncio.to_thread(os.stat, path)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"not a regular file: {path}")
        # Streamed from Python rather than handed to obstore as a Path: the same abort on cancel.
        stored = await self.put_stream(key, _file_chunks(path))
        if move:
            await asyncio.to_thread(path.unlink)
        return stored

    def get_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        validate_key(key)
        check_range(start, end)
        return self._read(key, start, end)

    async def _read(self, key: str, start: int, end: int | None) -> AsyncIterator[bytes]:
        if end == start:  # S3 refuses empty ranges; the key must still exist
            if await self.stat(key) is None:
                raise ObjectNotFound(key)
            return
        options: GetOptions = {}
        if end is not None:
            options["range"] = (start, end)
        elif start:
            options["range"] = {"offset": start}
        try:
            result = await obstore.get_async(self._store, key, options=options)
        except _NOT_FOUND:
            raise ObjectNotFound(key) from None
        except GenericError:
            # 416 when the range starts at or past the end: an empty answer, as from a file.
            info = await self.stat(key)
            if info is None:
                raise ObjectNotFound(key) from None
            if start >= info.size:
                return
            raise
        async for chunk in result.stream(min_chunk_size=_STREAM_MIN_CHUNK):
            if len(chunk) <= READ_CHUNK:
                yield chunk
                continue
            view = memoryview(chunk)
            for offset in range(0, len(chunk), READ_CHUNK):
                yield bytes(view[offset : offset + READ_CHUNK])

    def local_path(self, key: str) -> Path | None:
        return None

    async def stat(self, key: str) -> ObjectInfo | None:
        validate_key(key)
        try:
            meta = await obstore.head_async(self._store, key)
        except _NOT_FOUND:
            return None
        return ObjectInfo(key, meta["size"])

    async def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        count = 0
        async for batch in obstore.list(self._store, prefix, chunk_size=_DELETE_BATCH):
            paths = [meta["path"] for meta in batch]
            await obstore.delete_async(self._store, paths)
            count += len(paths)
        return count

    async def presign_get(self, key: str, expires_s: int) -> str | None:
        validate_key(key)
        return await obstore.sign_async(self._store, "GET", key, timedelta(seconds=expires_s))

    async def close(self) -> None:
        return None  # obstore's client pool goes with the store object
