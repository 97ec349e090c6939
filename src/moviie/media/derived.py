"""Videos made from another (a reel cut from a talk, a lip-synced dub): a video of their own in
the library, with `source_video_id`, processed like an upload. Their ids are derived from the
job that makes them, so a retried step finds the video made and makes no second one."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from moviie.accounts.quotas import reserve_storage
from moviie.db.models import Video
from moviie.events.service import emit_event
from moviie.jobs.runtime import runtime
from moviie.media.source import source_key
from moviie.videos import service as videos
from moviie.videos.schemas import VideoCreateFields


def derived_video_id(job_id: str, part: int | str) -> str:
    digest = hashlib.sha256(f"{job_id}:{part}".encode()).hexdigest()
    return f"vid_{digest[:26]}"


async def add_derived_video(
    source: Video, video_id: str, file: Path, title: str, span: tuple[float, float]
) -> None:
    """`file` (an MP4, moved into storage) becomes video `video_id`, cut from `source` over
    `span`, as private as it, counted against the account's storage; `video.uploaded` follows,
    and the caller processes it (`process_video`)."""
    rt = runtime()
    nbytes = (await asyncio.to_thread(file.stat)).st_size
    async with rt.db.transaction() as session:
        fields = VideoCreateFields(title=title[:500], privacy=source.privacy)
        video = await videos.create_video(
            session, source.account_id, fields, status="processing",
            public_url=rt.settings.resolved_public_url, source_filename=file.name,
            source_content_type="video/mp4", video_id=video_id,
            cut_from=(source.id, *span),
        )  # fmt: skip
        await reserve_storage(session, source.account_id, nbytes)
        video.size_bytes = nbytes
        await rt.storage.put_file(source_key(source.account_id, video_id), file, move=True)
        data = await videos.event_data(session, video, rt.settings.resolved_public_url)
        await emit_event(session, source.account_id, "video.uploaded", data)
