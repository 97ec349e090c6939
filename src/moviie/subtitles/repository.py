from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import SubtitleTrack


async def tracks_of(session: AsyncSession, video_id: str) -> Sequence[SubtitleTrack]:
    stmt = (
        select(SubtitleTrack)
        .where(SubtitleTrack.video_id == video_id)
        .order_by(SubtitleTrack.language)
    )
    return (await session.scalars(stmt)).all()


async def tracks_of_videos(
    session: AsyncSession, video_ids: Sequence[str]
) -> dict[str, list[SubtitleTrack]]:
    found: dict[str, list[SubtitleTrack]] = {v: [] for v in video_ids}
    if video_ids:
        stmt = (
            select(SubtitleTrack)
            .where(SubtitleTrack.video_id.in_(video_ids))
            .order_by(SubtitleTrack.video_id, SubtitleTrack.language)
        )
        for track in (await session.scalars(stmt)).all():
            found[track.video_id].append(track)
    return found


async def get_track(session: AsyncSession, video_id: str, language: str) -> SubtitleTrack | None:
    stmt = select(SubtitleTrack).where(
        SubtitleTrack.video_id == video_id, SubtitleTrack.language == language
    )
    return (await session.scalars(stmt)).one_or_none()


async def delete_track(session: AsyncSession, video_id: str, language: str) -> bool:
    stmt = delete(SubtitleTrack).where(
        SubtitleTrack.video_id == video_id, SubtitleTrack.language == language
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]
