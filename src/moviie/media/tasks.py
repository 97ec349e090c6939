"""The media pipeline's jobs. So far: probe the source and record what it is, or fail the video
with a clear code once a second reading confirms the rejection. Transcoding comes next."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from dbos import DBOS
from sqlalchemy import select, update

from moviie.db.models import Video
from moviie.db.types import utcnow
from moviie.jobs.runtime import runtime
from moviie.media.probe import MediaRejected, probe
from moviie.media.source import local_source
from moviie.videos import service as videos


@DBOS.step()
async def record_processing_started(video_id: str) -> None:
    async with runtime().db.transaction() as session:
        await session.execute(
            update(Video)
            .where(Video.id == video_id, Video.processing_started_at.is_(None))
            .values(processing_started_at=utcnow())
        )


async def _live_video(video_id: str) -> Video | None:
    async with runtime().db.transaction(write=False) as session:
        stmt = select(Video).where(Video.id == video_id, Video.deleted_at.is_(None))
        return (await session.scalars(stmt)).one_or_none()


@DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=2.0, backoff_rate=2.0)
async def probe_source(video_id: str) -> dict[str, Any]:
    """A rejection is a result; a storage or read error is raised and retried."""
    rt = runtime()
    video = await _live_video(video_id)
    if video is None:
        return {"gone": True}
    work_dir = rt.settings.data_dir / "work"
    async with local_source(rt.storage, video.account_id, video.id, work_dir) as path:
        try:
            info = await asyncio.to_thread(probe, path, max_duration_s=rt.settings.max_duration_s)
        except MediaRejected as rejected:
            return {"ok": False, "code": rejected.code, "message": rejected.message}
    return {"ok": True, **asdict(info)}


@DBOS.step()
async def record_probe(video_id: str, info: dict[str, Any]) -> None:
    async with runtime().db.transaction() as session:
        await session.execute(
            update(Video)
            .where(Video.id == video_id)
            .values(
                duration_s=info["duration_s"],
                width=info["width"],
                height=info["height"],
                updated_at=utcnow(),
            )
        )


@DBOS.step()
async def fail_processing(video_id: str, code: str, message: str) -> None:
    rt = runtime()
    async with rt.db.transaction() as session:
        video = await session.get(Video, video_id, with_for_update=True)
        if video is not None and video.status == "processing":
            await videos.fail_video(session, video, code, message, rt.settings.resolved_public_url)


@DBOS.workflow()
async def process_video(video_id: str) -> str:
    """Turn an uploaded source into a playable video."""
    await record_processing_started(video_id)
    result = await probe_source(video_id)
    if result.get("gone"):
        return "deleted"
    if not result["ok"]:
        # A rejection is confirmed by a second reading before the customer hears of it.
        result = await probe_source(video_id)
        if result.get("gone"):
            return "deleted"
        if not result["ok"]:
            await fail_processing(video_id, result["code"], result["message"])
            return "failed"
    await record_probe(video_id, result)
    return "probed"
