"""Reserved uploads whose URL expired before the file arrived: their staged bytes go, and their
video fails with `upload_expired` (a confirmed failure: nothing can complete it any more)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from dbos import DBOS
from sqlalchemy import select

from moviie.db.models import Upload, Video
from moviie.db.types import utcnow
from moviie.jobs.runtime import runtime
from moviie.uploads.staging import StagingArea, UploadBusy, exclusive, forget
from moviie.videos import service as videos

EXPIRE_BATCH = 200


@DBOS.step()
async def expire_uploads_batch(limit: int) -> int:
    rt = runtime()
    staging = StagingArea.for_data_dir(rt.settings.data_dir)
    public_url = rt.settings.resolved_public_url
    async with rt.db.transaction() as session:
        stmt = (
            select(Upload, Video)
            .join(Video, Video.id == Upload.video_id)
            .where(Upload.status == "pending", Upload.expires_at < utcnow())
            .order_by(Upload.id)
            .limit(limit)
        )
        rows = (await session.execute(stmt)).all()
        expired = []
        for upload, video in rows:
            staged = staging.upload_path(upload.id)
            try:
                with exclusive(staged):  # a request still writing it finishes first
                    upload.status = "expired"
            except UploadBusy:
                continue
            expired.append(staged)
            if video.status in ("waiting_upload", "uploading"):
                await videos.fail_video(
                    session,
                    video,
                    "upload_expired",
                    "The upload URL expired before the file was complete.",
                    public_url,
                )
    for staged in expired:  # once the expiry is committed
        await asyncio.to_thread(forget, staged)
    return len(expired)


@DBOS.workflow()
async def expire_uploads(batch: int = EXPIRE_BATCH) -> int:
    total = 0
    while True:
        expired = await expire_uploads_batch(batch)
        total += expired
        if expired < batch:
            return total


@DBOS.workflow()
async def scheduled_expire_uploads(_when: datetime, _context: Any) -> int:
    return await expire_uploads()
