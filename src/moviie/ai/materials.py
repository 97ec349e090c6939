"""Files a material makes (an EPUB, a quiz export, key frames) live beside its video, under
`materials/<job>/`, and `/media/<video>/materials/<job>/<name>` serves them (privacy checked as
for the video's own media)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from moviie.storage.base import Storage
from moviie.storage.keys import video_key


def material_path(job_id: str, name: str) -> str:
    return f"materials/{job_id}/{name}"


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def store_material(
    storage: Storage,
    public_url: str,
    account_id: str,
    video_id: str,
    job_id: str,
    name: str,
    content: bytes | Path,
) -> str:
    """Store one file of the job's and return its URL."""
    key = video_key(account_id, video_id, material_path(job_id, name))
    if isinstance(content, Path):
        await storage.put_file(key, content)
    else:
        await storage.put_stream(key, _one(content))
    return f"{public_url}/media/{video_id}/{material_path(job_id, name)}"
