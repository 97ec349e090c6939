from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Dub
from moviie.db.types import utcnow
from moviie.ids import new_id
from moviie.subtitles.languages import label


async def dubs_of(session: AsyncSession, video_id: str) -> Sequence[Dub]:
    stmt = select(Dub).where(Dub.video_id == video_id).order_by(Dub.language)
    return (await session.scalars(stmt)).all()


async def get_dub(session: AsyncSession, video_id: str, language: str) -> Dub | None:
    stmt = select(Dub).where(Dub.video_id == video_id, Dub.language == language)
    return (await session.scalars(stmt)).one_or_none()


async def save_dub(
    session: AsyncSession,
    account_id: str,
    video_id: str,
    language: str,
    job_id: str,
    quality: str,
    voice: str,
) -> str | None:
    """The language's dub is now this job's; returns the job whose dub it replaced."""
    dub = await get_dub(session, video_id, language)
    now = utcnow()
    replaced = dub.job_id if dub is not None else None
    if dub is None:
        dub = Dub(
            id=new_id("dub"),
            account_id=account_id,
            video_id=video_id,
            language=language,
            label=label(language),
            created_at=now,
        )
        session.add(dub)
    dub.job_id, dub.quality, dub.voice, dub.updated_at = job_id, quality, voice, now
    dub.lipsync_video_id = None
    await session.flush()
    return replaced
