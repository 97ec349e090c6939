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
from moviie.events.service import emit_event
from moviie.jobs.runtime import runtime
from moviie.uploads.staging import StagingArea
from moviie.videos import service as videos

EXPIRE_BATCH = 200


@DBOS.step()
async def expire_uploads_batch(limit: int) -> int:
    rt = runtime()
    staging = StagingArea(rt.settings.data_dir / "uploads")
    public_url = rt.settings.resolved_public_url
    async with rt.db.transaction() as session:
        stmt = (
            select(Upload, Video)
            .join(Video, Video.id == Upload.video_id)
            .where(Upload.status == "pending", Upload.expires_at < utcnow())
            .order_by(Upload.id)
            .limit(limit)
        )
        rows = (await session.execute(stmt)).tuples().all()
        for upload, video in rows:
            upload.status = "expired"
            staged = staging.upload_path(upload.id)
            await asyncio.to_thread(staged.unlink, True)
            await asyncio.to_thread(staged.with_suffix(".lock").unlink, True)
            if video.deleted_at is None and video.status in ("waiting_upload", "uploading"):
                video.status = "failed"
                video.error_code = "upload_expired"
                video.error_message = "The upload URL expired before the file was complete."
                video.updated_at = utcnow()
                await session.flush()
                data = await videos.event_data(session, video, public_url)
                await emit_event(session, video.account_id, "video.failed", data)
        return len(rows)


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
