"""The media pipeline's job: probe the source (a rejection is confirmed by a second reading),
encode the HLS ladder and the poster in one decode pass, store them, and mark the video ready."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import asdict
from typing import Any

from dbos import DBOS
from sqlalchemy import update

from moviie.db.models import Video
from moviie.db.types import utcnow
from moviie.events.service import emit_event
from moviie.jobs.runtime import runtime
from moviie.media.ffmpeg import ffmpeg_binary
from moviie.media.ladder import renditions_for
from moviie.media.probe import MediaRejected, probe
from moviie.media.source import local_source
from moviie.media.transcode import (
    download_command,
    hls_command,
    poster_command,
    run_ffmpeg,
    storyboard_command,
    storyboard_plan,
    storyboard_vtt,
)
from moviie.storage.keys import video_key
from moviie.videos import repository as video_repository
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
        return await video_repository.get_live(session, video_id)


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


@DBOS.step(retries_allowed=True, max_attempts=2, interval_seconds=5.0)
async def transcode_source(video_id: str, info: dict[str, Any]) -> dict[str, Any]:
    """Encode the ladder and the poster into a work directory named after the video (a rerun
    starts it over), then store every file under the video's prefix."""
    rt = runtime()
    video = await _live_video(video_id)
    if video is None:
        return {"gone": True}
    ffmpeg = ffmpeg_binary(rt.settings)
    work = rt.settings.data_dir / "work" / video_id
    await asyncio.to_thread(shutil.rmtree, work, True)
    out = work / "out"
    renditions = renditions_for(info["width"], info["height"])
    async with local_source(rt.storage, video.account_id, video_id, work) as source:
        for rendition in renditions:
            await asyncio.to_thread((out / "hls" / rendition.name).mkdir, parents=True)
        command = hls_command(
            ffmpeg,
            source,
            out / "hls",
            renditions,
            has_audio=info["has_audio"],
            frame_rate=info["frame_rate"],
        )
        await run_ffmpeg(command, duration_s=info["duration_s"])
        poster_at = min(info["duration_s"] * 0.1, 10.0)
        poster_width = min(info["width"], 1280)
        await run_ffmpeg(
            poster_command(ffmpeg, source, out / "poster.jpg", poster_at, poster_width),
            duration_s=0,
        )
        interval, count, rows, thumb_h = storyboard_plan(
            info["duration_s"], info["width"], info["height"]
        )
        await run_ffmpeg(
            storyboard_command(ffmpeg, source, out / "storyboard.jpg", interval, rows, thumb_h),
            duration_s=0,
        )
        vtt = storyboard_vtt("storyboard.jpg", info["duration_s"], interval, count, thumb_h)
        await asyncio.to_thread((out / "storyboard.vtt").write_text, vtt)
        top = out / "hls" / renditions[0].name / "index.m3u8"
        await run_ffmpeg(download_command(ffmpeg, top, out / "download.mp4"), duration_s=0)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    for path in files:
        key = video_key(video.account_id, video_id, path.relative_to(out).as_posix())
        await rt.storage.put_file(key, path, move=True)
    await asyncio.to_thread(shutil.rmtree, work, True)
    return {"renditions": [r.name for r in renditions], "files": len(files)}


@DBOS.step()
async def mark_ready(video_id: str) -> None:
    """Once: a replay finds the video ready and emits nothing more."""
    rt = runtime()
    async with rt.db.transaction() as session:
        video = await session.get(Video, video_id, with_for_update=True)
        if video is None or video.deleted_at is not None or video.status != "processing":
            return
        video.status = "ready"
        video.ready_at = utcnow()
        video.updated_at = video.ready_at
        await session.flush()
        data = await videos.event_data(session, video, rt.settings.resolved_public_url)
        await emit_event(session, video.account_id, "video.ready", data)


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
    if not result["has_video"]:
        # Audio-only sources get an audio ladder with the media pipeline's next step.
        await fail_processing(video_id, "no_video_stream", "The file has sound but no picture.")
        return "failed"
    try:
        stored = await transcode_source(video_id, result)
    except Exception:  # the encoder failed twice on a file that probed well: confirmed
        await fail_processing(
            video_id, "transcode_failed", "The video could not be encoded; it may be damaged."
        )
        return "failed"
    if stored.get("gone"):
        return "deleted"
    await mark_ready(video_id)
    return "ready"
