"""Asking for reels (refused up front, nothing charged, when the video cannot give any) and
listing the reels cut from a video."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.ai import pricing
from moviie.ai import service as ai
from moviie.config import Settings
from moviie.db.models import Account, Video
from moviie.errors import ValidationFailed
from moviie.reels.schemas import ReelsRequest
from moviie.subtitles.service import NoAudio, spoken_language
from moviie.videos import service as videos


class VideoTooShort(ValidationFailed):
    code = "video_too_short"
    title = "The video is shorter than the reels asked for"


async def request_reels(
    session: AsyncSession, settings: Settings, account: Account, video_id: str, body: ReelsRequest
) -> ai.Accepted:
    video = await ai.ready_video(session, account.id, video_id)
    duration = video.duration_s or 0.0
    if duration < body.min_duration_s:
        raise VideoTooShort(
            f"The video lasts {duration:.1f} s; reels of at least {body.min_duration_s:g} s "
            "were asked for.",
            param="min_duration_s",
            duration_s=duration,
        )
    if video.has_audio is False or video.width is None:
        raise NoAudio("Reels are cut from a talk: the video needs both picture and sound.")
    language = spoken_language(settings, body.language)
    params = body.model_dump() | {"language": language}
    price = pricing.price("reels", duration)
    return await ai.accept_job(session, account, video, "reels", params, price)


async def reels_of(session: AsyncSession, account_id: str, video_id: str) -> Sequence[Video]:
    source = await videos.get_video(session, account_id, video_id)
    stmt = (
        select(Video)
        .where(Video.source_video_id == source.id, Video.deleted_at.is_(None))
        .order_by(Video.source_start_s)
    )
    return (await session.scalars(stmt)).all()
