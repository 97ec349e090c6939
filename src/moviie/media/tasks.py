"""The media pipeline's job: probe the source (a rejection is confirmed by a second reading),
encode the HLS ladder and the poster in one decode pass, store them, and mark the video ready."""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dbos import DBOS
from sqlalchemy import or_, update

from moviie.db.models import Video
from moviie.db.types import utcnow
from moviie.events.service import emit_event
from moviie.jobs.runtime import runtime
from moviie.log import get_logger
from moviie.media.ffmpeg import ffmpeg_binary
from moviie.media.ladder import AUDIO_ONLY, renditions_for
from moviie.media.probe import MediaRejected, probe
from moviie.media.source import local_source
from moviie.media.transcode import (
    Pictures,
    TranscodeFailed,
    download_command,
    hls_command,
    run_ffmpeg,
    storyboard_plan,
    storyboard_vtt,
)
from moviie.storage.keys import video_key
from moviie.videos import repository as video_repository
from moviie.videos import service as videos
from moviie.videos.tasks import delete_media_objects

PROGRESS_INTERVAL_S = 1.0
log = get_logger("moviie.media")


@DBOS.step()
async def record_processing_started(video_id: str) -> None:
    async with runtime().db.transaction() as session:
        await session.execute(
            update(Video)
            .where(Video.id == video_id, Video.processing_started_at.is_(None))
            .values(processing_started_at=utcnow(), progress=0.0)
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
                has_audio=info["has_audio"],
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


class ProgressReporter:
    """Writes the encoder's progress to the video, at most once a second (a poll sees it move;
    the database does not see a write per frame)."""

    def __init__(self, video_id: str, start: float, span: float) -> None:
        self.video_id, self.start, self.span = video_id, start, span
        self._written_at = 0.0

    async def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self._written_at < PROGRESS_INTERVAL_S:
            return
        self._written_at = now
        try:
            await record_progress(self.video_id, self.start + self.span * fraction)
        except Exception:  # progress is for show: a busy database must not stop the encode
            log.warning("progress_not_recorded", video_id=self.video_id, exc_info=True)


async def record_progress(video_id: str, progress: float) -> None:
    """Only forward: a retried encode starts over without the video's progress going back."""
    value = round(min(progress, 1.0), 3)
    async with runtime().db.transaction() as session:
        await session.execute(
            update(Video)
            .where(
                Video.id == video_id,
                Video.status == "processing",
                or_(Video.progress.is_(None), Video.progress < value),
            )
            .values(progress=value)
        )


@DBOS.step(retries_allowed=True, max_attempts=2, interval_seconds=5.0)
async def transcode_source(video_id: str, info: dict[str, Any]) -> dict[str, Any]:
    """Encode the ladder (or, without picture, one audio rendition), the poster, storyboard and
    MP4 download into a work directory named after the video (a rerun starts it over), then store
    every file under the video's prefix at a fixed key (a rerun overwrites, nothing is orphaned).
    A source that fails to decode is a result, `{"corrupt": ...}`, not an error to retry."""
    rt = runtime()
    video = await _live_video(video_id)
    if video is None:
        return {"gone": True}
    work = rt.settings.data_dir / "work" / video_id
    await asyncio.to_thread(shutil.rmtree, work, True)
    try:
        return await _encode_and_store(video, info, work)
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)


async def _encode_and_store(video: Video, info: dict[str, Any], work: Path) -> dict[str, Any]:
    rt = runtime()
    ffmpeg = ffmpeg_binary(rt.settings)
    out = work / "out"
    has_video = info["has_video"]
    renditions = renditions_for(info["width"], info["height"]) if has_video else []
    names = [r.name for r in renditions] or [AUDIO_ONLY]
    if renditions and info["has_audio"]:
        names.append(AUDIO_ONLY)  # the sound's own rendition, beside the video variants
    async with local_source(rt.storage, video.account_id, video.id, work) as source:
        for name in names:
            await asyncio.to_thread((out / "hls" / name).mkdir, parents=True)
        await asyncio.to_thread((work / "thumbs").mkdir, parents=True)
        pictures = (
            Pictures.plan(out, work / "thumbs", info["duration_s"], info["width"], info["height"])
            if has_video
            else None
        )
        command = hls_command(
            ffmpeg,
            source,
            out / "hls",
            renditions,
            has_audio=info["has_audio"],
            frame_rate=info["frame_rate"],
            pictures=pictures,
        )
        progress = ProgressReporter(video.id, 0.02, 0.88)
        try:
            await run_ffmpeg(command, duration_s=info["duration_s"], on_progress=progress)
        except TranscodeFailed as failed:
            if not failed.corrupt_source:
                raise
            return {"corrupt": failed.stderr_tail[-500:]}
        if has_video:
            assert pictures is not None
            await run_ffmpeg(pictures.tile_command(ffmpeg), duration_s=0)
            await asyncio.to_thread((out / "storyboard.vtt").write_text, storyboard_track(info))
        top = out / "hls" / names[0] / "index.m3u8"
        sound = (
            out / "hls" / AUDIO_ONLY / "index.m3u8" if renditions and info["has_audio"] else None
        )
        download = download_command(ffmpeg, top, out / "download.mp4", sound)
        await run_ffmpeg(download, duration_s=0)
    await record_progress(video.id, 0.95)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    for path in files:
        key = video_key(video.account_id, video.id, path.relative_to(out).as_posix())
        await rt.storage.put_file(key, path, move=True)
    return {"account_id": video.account_id, "renditions": names, "files": len(files)}


def storyboard_track(info: dict[str, Any]) -> str:
    duration, width, height = info["duration_s"], info["width"], info["height"]
    interval, count, _rows, thumb_h = storyboard_plan(duration, width, height)
    return storyboard_vtt("storyboard.jpg", duration, interval, count, thumb_h)


@DBOS.step()
async def mark_ready(video_id: str) -> str:
    """Once: a replay finds the video ready and emits nothing more. Says `deleted` when the
    video went while it was encoded (its media, stored after the delete job ran, must go)."""
    rt = runtime()
    async with rt.db.transaction() as session:
        video = await session.get(Video, video_id, with_for_update=True)
        if video is None or video.deleted_at is not None:
            return "deleted"
        if video.status != "processing":
            return video.status
        video.status = "ready"
        video.progress = 1.0
        video.ready_at = utcnow()
        video.updated_at = video.ready_at
        await session.flush()
        data = await videos.event_data(session, video, rt.settings.resolved_public_url)
        await emit_event(session, video.account_id, "video.ready", data)
        return "ready"


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
    try:
        stored = await transcode_source(video_id, result)
    except Exception:  # the encoder failed twice on a file that probed well: confirmed
        await fail_processing(
            video_id, "transcode_failed", "The video could not be encoded; it may be damaged."
        )
        return "failed"
    if stored.get("gone"):
        return "deleted"
    if "corrupt" in stored:
        await fail_processing(
            video_id,
            "corrupt_media",
            "Too much of the file cannot be decoded (damaged or cut data in the middle).",
        )
        return "failed"
    if await mark_ready(video_id) == "deleted":
        await delete_media_objects(stored["account_id"], video_id)
        return "deleted"
    return "ready"
