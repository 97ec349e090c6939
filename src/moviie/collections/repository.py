from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Collection, CollectionVideo
from moviie.db.pagination import keyset_page
from moviie.db.types import utcnow


async def get(session: AsyncSession, account_id: str, collection_id: str) -> Collection | None:
    stmt = select(Collection).where(
        Collection.id == collection_id, Collection.account_id == account_id
    )
    return (await session.scalars(stmt)).one_or_none()


async def list_page(
    session: AsyncSession, account_id: str, *, limit: int, after_id: str | None
) -> tuple[Sequence[Collection], bool]:
    stmt = select(Collection).where(Collection.account_id == account_id)
    return await keyset_page(session, stmt, Collection.id, limit=limit, after_id=after_id)


async def existing_ids(session: AsyncSession, account_id: str, ids: Sequence[str]) -> set[str]:
    stmt = select(Collection.id).where(Collection.account_id == account_id, Collection.id.in_(ids))
    return set((await session.scalars(stmt)).all())


async def add_video(session: AsyncSession, collection_id: str, video_id: str) -> None:
    """Idempotent: adding a member twice keeps one row."""
    values = {"collection_id": collection_id, "video_id": video_id, "added_at": utcnow()}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(CollectionVideo).values(**values).on_conflict_do_nothing()
    await session.execute(stmt)


async def remove_video(session: AsyncSession, collection_id: str, video_id: str) -> bool:
    result = await session.execute(
        delete(CollectionVideo).where(
            CollectionVideo.collection_id == collection_id, CollectionVideo.video_id == video_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
