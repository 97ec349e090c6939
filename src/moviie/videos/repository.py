from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import CollectionVideo, Video, VideoTag
from moviie.db.pagination import keyset_page


@dataclass(frozen=True)
class VideoFilters:
    reference_id: str | None = None
    collection_id: str | None = None
    status: str | None = None
    q: str | None = None
    tag: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


async def get(session: AsyncSession, account_id: str, video_id: str) -> Video | None:
    stmt = select(Video).where(
        Video.id == video_id, Video.account_id == account_id, Video.deleted_at.is_(None)
    )
    return (await session.scalars(stmt)).one_or_none()


async def get_live(session: AsyncSession, video_id: str) -> Video | None:
    """A video that is not deleted, by id alone: for callers whose credential names the video
    (signed URLs, playback tokens, jobs), not an account."""
    stmt = select(Video).where(Video.id == video_id, Video.deleted_at.is_(None))
    return (await session.scalars(stmt)).one_or_none()


async def get_for_update(session: AsyncSession, account_id: str, video_id: str) -> Video | None:
    stmt = (
        select(Video)
        .where(Video.id == video_id, Video.account_id == account_id, Video.deleted_at.is_(None))
        .with_for_update()
    )
    return (await session.scalars(stmt)).one_or_none()


async def list_page(
    session: AsyncSession,
    account_id: str,
    filters: VideoFilters,
    *,
    limit: int,
    after_id: str | None,
) -> tuple[Sequence[Video], bool]:
    stmt = select(Video).where(Video.account_id == account_id, Video.deleted_at.is_(None))
    if filters.reference_id is not None:
        stmt = stmt.where(Video.reference_id == filters.reference_id)
    if filters.status is not None:
        stmt = stmt.where(Video.status == filters.status)
    if filters.created_after is not None:
        stmt = stmt.where(Video.created_at > filters.created_after)
    if filters.created_before is not None:
        stmt = stmt.where(Video.created_at < filters.created_before)
    if filters.tag is not None:
        tagged = select(VideoTag.video_id).where(VideoTag.tag == filters.tag)
        stmt = stmt.where(Video.id.in_(tagged))
    if filters.collection_id is not None:
        members = select(CollectionVideo.video_id).where(
            CollectionVideo.collection_id == filters.collection_id
        )
        stmt = stmt.where(Video.id.in_(members))
    if filters.q:
        pattern = f"%{_escape_like(filters.q.lower())}%"
        stmt = stmt.where(
            or_(
                Video.title.ilike(pattern, escape="\\"),
                Video.description.ilike(pattern, escape="\\"),
            )
        )
    return await keyset_page(session, stmt, Video.id, limit=limit, after_id=after_id)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def replace_tags(session: AsyncSession, video_id: str, tags: Sequence[str]) -> None:
    await session.execute(delete(VideoTag).where(VideoTag.video_id == video_id))
    session.add_all(VideoTag(video_id=video_id, tag=tag) for tag in tags)


async def collection_ids_of(
    session: AsyncSession, video_ids: Sequence[str]
) -> dict[str, list[str]]:
    if not video_ids:
        return {}
    stmt = (
        select(CollectionVideo.video_id, CollectionVideo.collection_id)
        .where(CollectionVideo.video_id.in_(video_ids))
        .order_by(CollectionVideo.collection_id)
    )
    found: dict[str, list[str]] = {video_id: [] for video_id in video_ids}
    for video_id, collection_id in (await session.execute(stmt)).all():
        found[video_id].append(collection_id)
    return found
