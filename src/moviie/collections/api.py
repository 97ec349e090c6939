from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.collections import service
from moviie.collections.schemas import CollectionCreate, CollectionOut, CollectionUpdate
from moviie.http.pagination import Page, Pagination, page_of
from moviie.http.routing import moviie_router
from moviie.http.session import Session

router = moviie_router(tags=["Collections"])
Reader = Annotated[ApiCaller, Depends(require_scope("videos:read"))]
Writer = Annotated[ApiCaller, Depends(require_scope("videos:write"))]
CollectionId = Annotated[str, Path(max_length=64, examples=["col_01jeq3v5m3f6a9b1c2d3e4f5g6"])]
VideoId = Annotated[str, Path(max_length=64, examples=["vid_01jeq3v5m3f6a9b1c2d3e4f5g6"])]


@router.post("/v1/collections", status_code=201, summary="Create a collection")
async def create_collection(
    body: CollectionCreate, session: Session, caller: Writer
) -> CollectionOut:
    return service.collection_view(
        await service.create_collection(session, caller.account_id, body)
    )


@router.get("/v1/collections", summary="List collections")
async def list_collections(
    session: Session, caller: Reader, page: Pagination
) -> Page[CollectionOut]:
    rows, has_more = await service.list_collections(
        session, caller.account_id, limit=page.limit, after_id=page.after_id
    )
    return page_of(
        [service.collection_view(c) for c in rows], has_more, rows[-1].id if rows else None
    )


@router.get("/v1/collections/{collection_id}", summary="Get a collection")
async def get_collection(
    collection_id: CollectionId, session: Session, caller: Reader
) -> CollectionOut:
    return service.collection_view(
        await service.get_collection(session, caller.account_id, collection_id)
    )


@router.patch("/v1/collections/{collection_id}", summary="Rename or describe a collection")
async def update_collection(
    collection_id: CollectionId, body: CollectionUpdate, session: Session, caller: Writer
) -> CollectionOut:
    return service.collection_view(
        await service.update_collection(session, caller.account_id, collection_id, body)
    )


@router.delete(
    "/v1/collections/{collection_id}",
    status_code=204,
    summary="Delete a collection (not its videos)",
)
async def delete_collection(collection_id: CollectionId, session: Session, caller: Writer) -> None:
    await service.delete_collection(session, caller.account_id, collection_id)


@router.put(
    "/v1/collections/{collection_id}/videos/{video_id}",
    status_code=204,
    summary="Add a video to a collection",
)
async def add_video(
    collection_id: CollectionId, video_id: VideoId, session: Session, caller: Writer
) -> None:
    await service.add_video(session, caller.account_id, collection_id, video_id)


@router.delete(
    "/v1/collections/{collection_id}/videos/{video_id}",
    status_code=204,
    summary="Remove a video from a collection",
)
async def remove_video(
    collection_id: CollectionId, video_id: VideoId, session: Session, caller: Writer
) -> None:
    await service.remove_video(session, caller.account_id, collection_id, video_id)
