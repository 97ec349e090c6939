from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime
from starlette.requests import ClientDisconnect

from moviie.accounts.quotas import ensure_trial_active
from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.dependencies import Uploads
from moviie.errors import UnsupportedMediaType
from moviie.http.body import read_json_model
from moviie.http.openapi import document_model
from moviie.http.pagination import Page, Pagination, page_of
from moviie.http.routing import is_json_content_type, moviie_router
from moviie.http.session import Session, get_database
from moviie.uploads import service as uploads
from moviie.uploads.forms import video_fields_from_form
from moviie.uploads.ingest import import_from_url
from moviie.uploads.multipart import read_multipart
from moviie.uploads.staging import StagedFile
from moviie.videos import service
from moviie.videos.repository import VideoFilters
from moviie.videos.schemas import (
    ReservedUpload,
    Status,
    UploadReserve,
    VideoFromUrl,
    VideoOut,
    VideoUpdate,
)

router = moviie_router(tags=["Videos"])
Reader = Annotated[ApiCaller, Depends(require_scope("videos:read"))]
Writer = Annotated[ApiCaller, Depends(require_scope("videos:write"))]
VideoId = Annotated[str, Path(max_length=64, examples=["vid_01jeq3v5m3f6a9b1c2d3e4f5g6"])]
MULTIPART_OVERHEAD = 1024 * 1024
QUOTA_RESPONSES: dict[int | str, dict[str, Any]] = {
    402: {"description": "The file would exceed the plan's storage (`storage_quota_exceeded`)."}
}

_CREATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "reference_id": {"type": "string", "maxLength": 255},
                        "metadata": {"type": "string", "description": "A JSON object of strings."},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "collection_ids": {"type": "array", "items": {"type": "string"}},
                        "privacy": {"type": "string", "enum": ["public", "private"]},
                    },
                },
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/VideoFromUrl"}},
        },
    }
}


document_model(VideoFromUrl)


@router.post(
    "/v1/videos",
    status_code=201,
    summary="Upload a video (multipart) or import one from a URL (JSON)",
    openapi_extra=_CREATE_BODY,
    responses=QUOTA_RESPONSES,
)
async def create_video(request: Request, caller: Writer, ctx: Uploads) -> VideoOut:
    ensure_trial_active(caller.account)
    content_type = request.headers.get("content-type", "")
    db = get_database(request)
    if is_json_content_type(content_type):
        body = await read_json_model(request, VideoFromUrl, ctx.settings.max_body_bytes)
        async with db.transaction() as session:
            video = await import_from_url(session, ctx, caller.account_id, body)
            return (await service.views(session, [video], ctx.public_url))[0]
    if not content_type.startswith("multipart/form-data"):
        raise UnsupportedMediaType(
            "Send the file as `multipart/form-data`, or JSON with a `url` to import."
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit():
        uploads.check_file_size(ctx, caller.account, max(int(declared) - MULTIPART_OVERHEAD, 0))
    sink = await StagedFile(ctx.staging.temp_path()).open()
    try:
        form = await read_multipart(
            request.stream(), content_type, sink, max_file_bytes=ctx.settings.max_upload_bytes
        )
        await sink.close()
        if not form.has_file:
            raise RequestValidationError(
                [{"type": "missing", "loc": ("body", "file"), "msg": "Field required"}]
            )
        fields = video_fields_from_form(form.fields)
        async with db.transaction() as session:
            video = await service.create_video(
                session,
                caller.account_id,
                fields,
                status="uploading",
                public_url=ctx.public_url,
                source_filename=form.filename,
                source_content_type=form.content_type,
            )
            await uploads.store_source(
                session,
                ctx,
                video,
                sink.path,
                sink.size,
                filename=form.filename,
                content_type=form.content_type,
            )
            return (await service.views(session, [video], ctx.public_url))[0]
    except ClientDisconnect as exc:
        raise uploads.ClientGone("Nothing was kept; upload again.") from exc
    finally:
        await sink.discard()  # a no-op once the file has moved into storage


@router.post(
    "/v1/videos/uploads/reserve",
    status_code=201,
    summary="Reserve an upload: a video waiting for its file, and a signed URL to send it to",
    responses=QUOTA_RESPONSES,
)
async def reserve_upload(
    body: UploadReserve, session: Session, caller: Writer, ctx: Uploads
) -> ReservedUpload:
    video, upload = await uploads.reserve_upload(session, ctx, caller.account, body)
    (view,) = await service.views(session, [video], ctx.public_url)
    return ReservedUpload(video=view, upload=uploads.upload_view(ctx, upload))


@router.get("/v1/videos", summary="List and search videos")
async def list_videos(
    session: Session,
    caller: Reader,
    page: Pagination,
    ctx: Uploads,
    reference_id: Annotated[str | None, Query(max_length=255)] = None,
    collection_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Status | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Title/description search.")] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    created_after: AwareDatetime | None = None,
    created_before: AwareDatetime | None = None,
) -> Page[VideoOut]:
    filters = VideoFilters(
        reference_id=reference_id,
        collection_id=collection_id,
        status=status,
        q=q,
        tag=tag,
        created_after=created_after,
        created_before=created_before,
    )
    rows, has_more = await service.list_videos(
        session, caller.account_id, filters, limit=page.limit, after_id=page.after_id
    )
    items = await service.views(session, rows, ctx.public_url)
    return page_of(items, has_more, rows[-1].id if rows else None)


@router.get("/v1/videos/{video_id}", summary="Get a video")
async def get_video(video_id: VideoId, session: Session, caller: Reader, ctx: Uploads) -> VideoOut:
    video = await service.get_video(session, caller.account_id, video_id)
    return (await service.views(session, [video], ctx.public_url))[0]


@router.patch("/v1/videos/{video_id}", summary="Change a video's details")
async def update_video(
    video_id: VideoId, body: VideoUpdate, session: Session, caller: Writer, ctx: Uploads
) -> VideoOut:
    video = await service.update_video(session, caller.account_id, video_id, body, ctx.public_url)
    return (await service.views(session, [video], ctx.public_url))[0]


@router.delete("/v1/videos/{video_id}", status_code=204, summary="Delete a video and its media")
async def delete_video(video_id: VideoId, session: Session, caller: Writer, ctx: Uploads) -> None:
    await service.delete_video(session, caller.account_id, video_id, ctx.jobs, ctx.public_url)
