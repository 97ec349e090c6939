"""Uploads: reserving one, and turning staged bytes into a video's stored source."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.accounts import repository as accounts_repository
from moviie.accounts.quotas import (
    StorageQuotaExceeded,
    check_storage,
    ensure_trial_active,
    reserve_storage,
)
from moviie.config import Settings
from moviie.db.models import Account, Upload, Video
from moviie.db.types import utcnow
from moviie.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from moviie.events.service import emit_event
from moviie.ids import new_id
from moviie.jobs.client import JobClient
from moviie.media.source import source_key
from moviie.media.tasks import process_video
from moviie.server_secret import load_server_secret
from moviie.storage.base import Storage
from moviie.storage.keys import video_prefix
from moviie.uploads.signing import signed_upload_url
from moviie.uploads.staging import StagingArea
from moviie.videos import repository as video_repository
from moviie.videos import service as videos
from moviie.videos.errors import VideoNotFound
from moviie.videos.schemas import UploadOut, UploadReserve


class EmptyFile(BadRequest):
    code = "empty_file"
    title = "The file is empty"


class ClientGone(BadRequest):
    code = "client_disconnected"
    title = "The client went away before the body was complete"


class UploadNotFound(NotFound):
    code = "upload_not_found"


class UploadCompleted(Conflict):
    code = "upload_completed"
    title = "This upload is complete"


@dataclass(frozen=True)
class UploadContext:
    """What the upload paths share: configuration, storage, staging, jobs and the URL secret."""

    settings: Settings
    storage: Storage
    staging: StagingArea
    jobs: JobClient
    secret: bytes

    @classmethod
    def build(cls, settings: Settings, storage: Storage, jobs: JobClient) -> UploadContext:
        return cls(
            settings=settings,
            storage=storage,
            staging=StagingArea.for_data_dir(settings.data_dir),
            jobs=jobs,
            secret=load_server_secret(settings),
        )

    @property
    def public_url(self) -> str:
        return self.settings.resolved_public_url


def check_file_size(ctx: UploadContext, account: Account, nbytes: int) -> None:
    """Refuse a declared size early: over the per-file limit (413) or the plan's storage (402)."""
    limit = ctx.settings.max_upload_bytes
    if nbytes > limit:
        raise PayloadTooLarge(f"Files may be at most {limit} bytes.", max_bytes=limit)
    check_storage(account, nbytes)


def upload_view(ctx: UploadContext, upload: Upload) -> UploadOut:
    url = signed_upload_url(
        ctx.secret, ctx.public_url, upload.id, int(upload.expires_at.timestamp())
    )
    return UploadOut(id=upload.id, url=url, expires_at=upload.expires_at, tus_url=url)


async def reserve_upload(
    session: AsyncSession, ctx: UploadContext, account: Account, body: UploadReserve
) -> tuple[Video, Upload]:
    ensure_trial_active(account)
    if body.size_bytes is not None:
        check_file_size(ctx, account, body.size_bytes)
    video = await videos.create_video(
        session,
        account.id,
        body,
        status="waiting_upload",
        public_url=ctx.public_url,
        source_filename=body.filename,
    )
    now = utcnow()
    upload = Upload(
        id=new_id("upl"),
        account_id=account.id,
        video_id=video.id,
        status="pending",
        length=body.size_bytes,
        offset=0,
        expires_at=now + timedelta(seconds=ctx.settings.upload_url_ttl_s),
        created_at=now,
    )
    session.add(upload)
    await session.flush()
    return video, upload


async def get_upload(session: AsyncSession, upload_id: str) -> tuple[Upload, Video]:
    """The upload behind a signed URL (the signature, checked before, is bound to its id)."""
    stmt = (
        select(Upload, Video)
        .join(Video, Video.id == Upload.video_id)
        .where(Upload.id == upload_id, Video.deleted_at.is_(None))
    )
    found = (await session.execute(stmt)).one_or_none()
    if found is None:
        raise UploadNotFound(f"No upload {upload_id}.")
    upload, video = found
    return upload, video


async def store_source(
    session: AsyncSession,
    ctx: UploadContext,
    video: Video,
    staged: Path,
    size: int,
    *,
    filename: str | None,
    content_type: str | None,
) -> None:
    """Move the staged file into storage, count it against the quota, and hand the video to the
    media pipeline, with the caller's transaction.

    The video row is locked first, so a concurrent DELETE waits for us (or we see it and stop);
    the account row is locked only for the short count that follows the upload."""
    locked = await video_repository.get_for_update(session, video.account_id, video.id)
    try:
        if locked is None:
            raise VideoNotFound(f"The video {video.id} was deleted.")
        if size == 0:
            raise EmptyFile("Send a video file with some bytes in it.")
        account = await accounts_repository.get(session, video.account_id)
        assert account is not None
        await session.refresh(account, ["storage_bytes"])  # refuse early, before the upload
        check_storage(account, size)
    except Exception:
        await asyncio.to_thread(staged.unlink, True)
        raise
    video = locked
    await ctx.storage.put_file(source_key(video.account_id, video.id), staged, move=True)
    try:
        await reserve_storage(session, video.account_id, size)
    except StorageQuotaExceeded:  # another upload took the space meanwhile
        await ctx.storage.delete_prefix(video_prefix(video.account_id, video.id))
        raise
    video.status = "processing"
    video.size_bytes = size
    if filename:
        video.source_filename = videos.safe_filename(filename)
    if content_type:
        video.source_content_type = content_type[:255]
    video.updated_at = utcnow()
    await session.flush()
    data = await videos.event_data(session, video, ctx.public_url)
    await emit_event(session, video.account_id, "video.uploaded", data)
    await ctx.jobs.enqueue_in(
        session, "media", process_video, video.id, job_id=f"process-{video.id}"
    )
