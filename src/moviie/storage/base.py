"""The storage protocol every back end implements, and its value types."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Upper bound of one chunk yielded by `get_range`, so no reader holds a whole object in memory.
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class ObjectNotFound(Exception):
    """No object under that key."""


def check_range(start: int, end: int | None) -> None:
    """ValueError unless [start, end) is a range of offsets (possibly empty)."""
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"invalid byte range [{start}, {end})")


class Storage(Protocol):
    """Objects under validated keys; every write is atomic (whole object or nothing)."""

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> ObjectInfo:
        """Store the chunks under `key`; if they raise midway nothing is left and it propagates."""
        ...

    async def put_file(self, key: str, path: Path, *, move: bool = False) -> ObjectInfo:
        """Store a local file; with `move` the source is gone afterwards (renamed when possible)."""
        ...

    def get_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes [start, end) in chunks of at most ~1 MiB; raises ObjectNotFound when absent."""
        ...

    async def stat(self, key: str) -> ObjectInfo | None: ...

    def local_path(self, key: str) -> Path | None:
        """Where the object lies on this machine's disk, for tools that read files (ffmpeg);
        None where objects are remote."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix` (which ends with "/"); returns how many."""
        ...

    async def presign_get(self, key: str, expires_s: int) -> str | None:
        """A URL a browser can GET for a while; None where the back end cannot sign."""
        ...

    async def close(self) -> None: ...
