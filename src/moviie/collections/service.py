"""Collections group an account's videos; a video may sit in many."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.collections import repository
from moviie.collections.errors import CollectionNotFound
from moviie.collections.schemas import CollectionCreate, CollectionOut, CollectionUpdate
from moviie.db.models import Collection
from moviie.db.types import utcnow
from moviie.ids import new_id
from moviie.videos import repository as videos
from moviie.videos.errors import VideoNotFound


def collection_view(collection: Collection) -> CollectionOut:
    return CollectionOut(
        id=collection.id,
        name=collection.name,
        description=collection.description,
        created_at=collection.created_at,
        updated_at=collection.updated_at,
    )


async def create_collection(
    session: AsyncSession, account_id: str, body: CollectionCreate
) -> Collection:
    now = utcnow()
    collection = Collection(
        id=new_id("col"),
        account_id=account_id,
        name=body.name,
        description=body.description or "",
        created_at=now,
        updated_at=now,
    )
    session.add(collection)
    await session.flush()
    return collection


async def get_collection(session: AsyncSession, account_id: str, collection_id: str) -> Collection:
    collection = await repository.get(session, account_id, collection_id)
    if collection is None:
        raise CollectionNotFound(f"No collection {collection_id}.")
    return collection


async def list_collections(
    session: AsyncSession, account_id: str, *, limit: int, after_id: str | None
) -> tuple[Sequence[Collection], bool]:
    return await repository.list_page(session, account_id, limit=limit, after_id=after_id)


async def update_collection(
    session: AsyncSession, account_id: str, collection_id: str, body: CollectionUpdate
) -> Collection:
    collection = await get_collection(session, account_id, collection_id)
    if body.name is not None:
        collection.name = body.name
    if "description" in body.model_fields_set:
        collection.description = body.description or ""
    collection.updated_at = utcnow()
    await session.flush()
    return collection


async def delete_collection(session: AsyncSession, account_id: str, collection_id: str) -> None:
    """The collection goes; its videos stay."""
    collection = await get_collection(session, account_id, collection_id)
    await session.delete(collection)
    await session.flush()


async def add_video(
    session: AsyncSession, account_id: str, collection_id: str, video_id: str
) -> None:
    await get_collection(session, account_id, collection_id)
    if await videos.get(session, account_id, video_id) is None:
        raise VideoNotFound(f"No video {video_id}.")
    await repository.add_video(session, collection_id, video_id)


async def remove_video(
    session: AsyncSession, account_id: str, collection_id: str, video_id: str
) -> None:
    await get_collection(session, account_id, collection_id)
    if await videos.get(session, account_id, video_id) is None:
        raise VideoNotFound(f"No video {video_id}.")
    await repository.remove_video(session, collection_id, video_id)
