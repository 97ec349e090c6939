"""The video library: creating, reading, changing and deleting videos, with their events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.accounts.quotas import release_storage
from moviie.collections.errors import CollectionNotFound
from moviie.collections.repository import add_video as add_to_collection
from moviie.collections.repository import existing_ids as existing_collection_ids
from moviie.db.models import SubtitleTrack, Video
from moviie.db.types import utcnow
from moviie.events.service import emit_event
from moviie.ids import new_id
from moviie.jobs.client import JobClient
from moviie.subtitles import repository as subtitle_repository
from moviie.subtitles.views import track_view
from moviie.videos import repository
from moviie.videos.errors import VideoNotFound
from moviie.videos.repository import VideoFilters
from moviie.videos.schemas import (
    ErrorOut,
    PlaybackOut,
    SourceOut,
    SourceRange,
    VideoCreateFields,
    VideoFields,
    VideoOut,
)
from moviie.videos.tasks import delete_video_media


def playback_urls(video: Video, public_url: str) -> PlaybackOut | None:
    if video.status != "ready":
        return None
    base = f"{public_url}/media/{video.id}"
    return PlaybackOut(
        hls=f"{base}/hls/master.m3u8",
        poster=None if video.audio_only else f"{base}/poster.jpg",
        mp4=f"{base}/download.mp4",
    )


def video_view(
    video: Video,
    collection_ids: Sequence[str],
    public_url: str,
    subtitles: Sequence[SubtitleTrack] = (),
) -> VideoOut:
    return VideoOut(
        id=video.id,
        title=video.title,
        description=video.description,
        reference_id=video.reference_id,
        metadata=video.meta,
        tags=video.tags,
        collection_ids=list(collection_ids),
        privacy=video.privacy,
        status=video.status,
        progress=(video.progress or 0.0) if video.status == "processing" else video.progress,
        duration_s=video.duration_s,
        width=video.width,
        height=video.height,
        size_bytes=video.size_bytes,
        source=SourceOut(filename=video.source_filename, content_type=video.source_content_type),
        playback=playback_urls(video, public_url),
        embed=f"{public_url}/embed/{video.id}",
        subtitles=[track_view(t, public_url) for t in subtitles],
        source_video_id=video.source_video_id,
        source_range=SourceRange(start_s=video.source_start_s, end_s=video.source_end_s)
        if video.source_start_s is not None and video.source_end_s is not None
        else None,
        error=ErrorOut(code=video.error_code, message=video.error_message or "")
        if video.error_code
        else None,
        created_at=video.created_at,
        updated_at=video.updated_at,
        ready_at=video.ready_at,
    )


async def views(session: AsyncSession, videos: Sequence[Video], public_url: str) -> list[VideoOut]:
    ids = [v.id for v in videos]
    memberships = await repository.collection_ids_of(session, ids)
    tracks = await subtitle_repository.tracks_of_videos(session, ids)
    return [
        video_view(v, memberships.get(v.id, []), public_url, tracks.get(v.id, [])) for v in videos
    ]


async def event_data(session: AsyncSession, video: Video, public_url: str) -> dict[str, Any]:
    (view,) = await views(session, [video], public_url)
    return view.model_dump(mode="json")


async def create_video(
    session: AsyncSession,
    account_id: str,
    fields: VideoCreateFields,
    *,
    status: str,
    public_url: str,
    source_filename: str | None = None,
    source_content_type: str | None = None,
    source_url: str | None = None,
    video_id: str | None = None,
    cut_from: tuple[str, float, float] | None = None,
) -> Video:
    """A new video in `status`, in its collections, with its `video.created` event. `cut_from`:
    (video id, start, end) of a reel."""
    collection_ids = list(dict.fromkeys(fields.collection_ids or []))
    if collection_ids:
        found = await existing_collection_ids(session, account_id, collection_ids)
        missing = [c for c in collection_ids if c not in found]
        if missing:
            raise CollectionNotFound(
                f"No collection {missing[0]}.", param="collection_ids", missing=missing
            )
    now = utcnow()
    tags = list(dict.fromkeys(fields.tags or []))
    video = Video(
        id=video_id or new_id("vid"),
        account_id=account_id,
        title=fields.title or "",
        description=fields.description or "",
        reference_id=fields.reference_id,
        meta=fields.metadata or {},
        tags=tags,
        privacy=fields.privacy or "public",
        status=status,
        source_filename=safe_filename(source_filename),
        source_content_type=source_content_type,
        source_url=source_url,
        source_video_id=cut_from[0] if cut_from else None,
        source_start_s=cut_from[1] if cut_from else None,
        source_end_s=cut_from[2] if cut_from else None,
        created_at=now,
        updated_at=now,
    )
    session.add(video)
    await session.flush()
    await repository.replace_tags(session, video.id, tags)
    for collection_id in collection_ids:
        await add_to_collection(session, collection_id, video.id)
    await session.flush()
    await emit_event(
        session, account_id, "video.created", await event_data(session, video, public_url)
    )
    return video


def safe_filename(name: str | None) -> str | None:
    """Kept only to show back to the user: the last path segment, never used as a path."""
    if not name:
        return None
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(c for c in last if c.isprintable())
    return printable.encode("utf-8", "replace").decode()[:255] or None


async def fail_video(
    session: AsyncSession, video: Video, code: str, message: str, public_url: str
) -> None:
    """The video failed for good: its error is set and `video.failed` is emitted, once."""
    if video.status == "failed" or video.deleted_at is not None:
        return
    video.status = "failed"
    video.error_code = code
    video.error_message = message
    video.updated_at = utcnow()
    await session.flush()
    await emit_event(
        session, video.account_id, "video.failed", await event_data(session, video, public_url)
    )


async def get_video(session: AsyncSession, account_id: str, video_id: str) -> Video:
    video = await repository.get(session, account_id, video_id)
    if video is None:
        raise VideoNotFound(f"No video {video_id}.")
    return video


async def list_videos(
    session: AsyncSession,
    account_id: str,
    filters: VideoFilters,
    *,
    limit: int,
    after_id: str | None,
) -> tuple[Sequence[Video], bool]:
    return await repository.list_page(session, account_id, filters, limit=limit, after_id=after_id)


async def update_video(
    session: AsyncSession, account_id: str, video_id: str, changes: VideoFields, public_url: str
) -> Video:
    video = await get_video(session, account_id, video_id)
    given = changes.model_fields_set
    if "title" in given:
        video.title = changes.title or ""
    if "description" in given:
        video.description = changes.description or ""
    if "reference_id" in given:
        video.reference_id = changes.reference_id
    if "metadata" in given:
        video.meta = changes.metadata or {}
    if "privacy" in given and changes.privacy is not None:
        video.privacy = changes.privacy
    if "tags" in given:
        video.tags = list(dict.fromkeys(changes.tags or []))
        await repository.replace_tags(session, video.id, video.tags)
    video.updated_at = utcnow()
    await session.flush()
    await emit_event(
        session, account_id, "video.updated", await event_data(session, video, public_url)
    )
    return video


async def delete_video(
    session: AsyncSession, account_id: str, video_id: str, jobs: JobClient, public_url: str
) -> None:
    """Gone from the API at once; its media is removed by a durable job enqueued with the change.

    The row is locked: an upload storing this video's file finishes (and counts) first."""
    video = await repository.get_for_update(session, account_id, video_id)
    if video is None:
        raise VideoNotFound(f"No video {video_id}.")
    data = await event_data(session, video, public_url)
    if video.size_bytes:
        await release_storage(session, account_id, video.size_bytes)
    video.status = "deleted"
    video.deleted_at = utcnow()
    await session.flush()
    await emit_event(session, account_id, "video.deleted", {**data, "status": "deleted"})
    await jobs.enqueue_in(
        session,
        "maintenance",
        delete_video_media,
        account_id,
        video.id,
        job_id=f"delete-media-{video.id}",
    )
