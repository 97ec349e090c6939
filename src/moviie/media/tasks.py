"""The media pipeline's jobs. Probing and transcoding land with the media issue; until then the
processing job records that it ran."""

from __future__ import annotations

from dbos import DBOS
from sqlalchemy import update

from moviie.db.models import Video
from moviie.db.types import utcnow
from moviie.jobs.runtime import runtime


@DBOS.step()
async def record_processing_started(video_id: str) -> None:
    async with runtime().db.transaction() as session:
        await session.execute(
            update(Video)
            .where(Video.id == video_id, Video.processing_started_at.is_(None))
            .values(processing_started_at=utcnow())
        )


@DBOS.workflow()
async def process_video(video_id: str) -> None:
    """Turn an uploaded source into a playable video."""
    await record_processing_started(video_id)
