"""The signed upload URL: `PUT` the raw file, or speak tus 1.0 to resume. No API key: the URL's
signature is the credential, bound to one upload until it expires."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from email.utils import format_datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from starlette.requests import ClientDisconnect

from moviie.accounts import repository as accounts
from moviie.db.models import Upload, Video
from moviie.db.types import utcnow
from moviie.dependencies import Uploads
from moviie.errors import MoviieError, PayloadTooLarge, UnsupportedMediaType
from moviie.http.routing import moviie_router
from moviie.http.session import get_database
from moviie.uploads import service
from moviie.uploads.signing import verify_upload_signature
from moviie.uploads.staging import StagedFile, UploadBusy, exclusive, forget
from moviie.uploads.tus import (
    EXTENSIONS,
    OFFSET_CONTENT_TYPE,
    TUS_VERSION,
    ChecksumMismatch,
    InvalidTusHeader,
    OffsetMismatch,
    UploadLocked,
    header_int,
    parse_checksum,
    require_tus,
    tus_error,
    tus_headers,
)

router = moviie_router(tags=["Uploads"])
UploadId = Annotated[str, Path(pattern=r"^upl_[0-9a-z]{26}$")]
Expires = Annotated[str | None, Query(max_length=20)]
Signature = Annotated[str | None, Query(max_length=128)]


@contextlib.contextmanager
def _exclusive(path: FilePath) -> Iterator[None]:
    try:
        with exclusive(path):
            yield
    except UploadBusy:
        raise tus_error(UploadLocked("Wait for the other request, then HEAD.")) from None


def _verify(ctx: Any, upload_id: str, expires: str | None, signature: str | None) -> None:
    try:
        verify_upload_signature(ctx.secret, upload_id, expires, signature)
    except MoviieError as error:
        raise tus_error(error) from None


async def _load(request: Request, upload_id: str) -> tuple[Upload, Video]:
    try:
        async with get_database(request).transaction(write=False) as session:
            return await service.get_upload(session, upload_id)
    except MoviieError as error:
        raise tus_error(error) from None


def _stored_offset(upload: Upload, staged: FilePath) -> int:
    if upload.status == "completed":
        return upload.offset
    return staged.stat().st_size if staged.exists() else 0


@router.options("/uploads/{upload_id}", include_in_schema=False)
async def tus_options(upload_id: UploadId, ctx: Uploads) -> Response:
    return Response(
        status_code=204,
        headers=tus_headers(
            **{
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": EXTENSIONS,
                "Tus-Max-Size": str(ctx.settings.max_upload_bytes),
                "Tus-Checksum-Algorithm": "sha1,md5,sha256",
            }
        ),
    )


@router.head("/uploads/{upload_id}", include_in_schema=False)
async def tus_head(
    upload_id: UploadId,
    request: Request,
    ctx: Uploads,
    expires: Expires = None,
    signature: Signature = None,
) -> Response:
    require_tus(request.headers)
    _verify(ctx, upload_id, expires, signature)
    upload, _video = await _load(request, upload_id)
    offset = _stored_offset(upload, ctx.staging.upload_path(upload_id))
    headers = tus_headers(
        **{
            "Upload-Offset": str(offset),
            "Cache-Control": "no-store",
            "Upload-Expires": format_datetime(upload.expires_at, usegmt=True),
        }
    )
    if upload.length is None:
        headers["Upload-Defer-Length"] = "1"
    else:
        headers["Upload-Length"] = str(upload.length)
    return Response(status_code=200, headers=headers)


@router.patch("/uploads/{upload_id}", status_code=204, include_in_schema=False)
async def tus_patch(
    upload_id: UploadId,
    request: Request,
    ctx: Uploads,
    expires: Expires = None,
    signature: Signature = None,
) -> Response:
    require_tus(request.headers)
    if request.headers.get("content-type", "").split(";")[0].strip() != OFFSET_CONTENT_TYPE:
        raise tus_error(UnsupportedMediaType(f"tus chunks are `{OFFSET_CONTENT_TYPE}`."))
    claimed = header_int(request.headers, "upload-offset")
    if claimed is None:
        raise tus_error(InvalidTusHeader("Send `Upload-Offset`."))
    declared_length = header_int(request.headers, "upload-length")
    checksum = parse_checksum(request.headers.get("upload-checksum"))
    _verify(ctx, upload_id, expires, signature)
    path = ctx.staging.upload_path(upload_id)
    with _exclusive(path):
        # Read under the lock: a request that held it before us may have completed the upload.
        upload, video = await _load(request, upload_id)
        if upload.status != "pending":
            raise tus_error(service.UploadCompleted(f"This upload is {upload.status}."))
        length = upload.length
        if declared_length is not None and length is not None and declared_length != length:
            raise tus_error(InvalidTusHeader("`Upload-Length` differs from the reserved size."))
        offset = _stored_offset(upload, path)
        if claimed != offset:
            raise tus_error(OffsetMismatch(f"The stored offset is {offset}.", offset=offset))
        if declared_length is not None and declared_length < offset:
            raise tus_error(InvalidTusHeader("`Upload-Length` is below the bytes already sent."))
        if length is None and declared_length is not None:  # sizes given at reserve were checked
            await _check_declared(request, ctx, video, declared_length)
            length = declared_length
        limit = (length if length is not None else ctx.settings.max_upload_bytes) - offset
        staged = await StagedFile(path, append=True).open()
        hasher = checksum[0] if checksum else None
        try:
            received = await _receive(request, staged, limit, hasher)
        except ClientDisconnect:
            await staged.close()
            if checksum:  # an unverifiable partial chunk is dropped; the client resends it
                await asyncio.to_thread(os.truncate, path, offset)
            raise service.ClientGone("The chunk was cut; HEAD for the offset and resume.") from None
        except PayloadTooLarge as error:
            await staged.close()
            await asyncio.to_thread(os.truncate, path, offset)
            raise tus_error(error) from None
        await staged.close()
        if checksum and hasher is not None and hasher.digest() != checksum[1]:
            await asyncio.to_thread(os.truncate, path, offset)
            raise tus_error(ChecksumMismatch("Resend the chunk."))
        new_offset = offset + received
        # The staged file's size is the offset HEAD reports; the row changes only when the
        # upload's state does (first bytes, a length declared late, completion).
        if (
            video.status == "waiting_upload"
            or length != upload.length
            or (length is not None and new_offset == length)
        ):
            await _record_progress(request, ctx, upload_id, new_offset, length, path)
    return Response(status_code=204, headers=tus_headers(**{"Upload-Offset": str(new_offset)}))


@router.put("/uploads/{upload_id}", status_code=204, include_in_schema=False)
async def put_file(
    upload_id: UploadId,
    request: Request,
    ctx: Uploads,
    expires: Expires = None,
    signature: Signature = None,
) -> Response:
    _verify(ctx, upload_id, expires, signature)
    path = ctx.staging.upload_path(upload_id)
    with _exclusive(path):
        # Read under the lock: a PUT that held it before us may have completed the upload.
        upload, video = await _load(request, upload_id)
        if upload.status != "pending":
            raise service.UploadCompleted(f"This upload is {upload.status}.")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit():
            await _check_declared(request, ctx, video, int(declared))
        staged = await StagedFile(path).open()  # a PUT starts the file over
        try:
            size = await _receive(request, staged, ctx.settings.max_upload_bytes, None)
            await staged.close()
        except ClientDisconnect:
            await staged.discard()
            raise service.ClientGone("Nothing was kept; PUT the file again.") from None
        except BaseException:
            await staged.discard()
            raise
        try:
            await _record_progress(request, ctx, upload_id, size, size, path)
        except BaseException:
            await staged.discard()
            raise
    return Response(status_code=204)


async def _check_declared(request: Request, ctx: Any, video: Video, nbytes: int) -> None:
    async with get_database(request).transaction(write=False) as session:
        account = await accounts.get(session, video.account_id)
        assert account is not None
        try:
            service.check_file_size(ctx, account, nbytes)
        except MoviieError as error:
            raise tus_error(error) from None


async def _receive(request: Request, staged: StagedFile, limit: int, hasher: Any) -> int:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(
                f"The body goes past the upload's length by {received - limit} bytes or more."
            )
        if hasher is not None:
            hasher.update(chunk)
        await staged.write(chunk)
    return received


async def _record_progress(
    request: Request, ctx: Any, upload_id: str, offset: int, length: int | None, path: FilePath
) -> bool:
    """Store the upload's state; once every byte is in, the staged file becomes the video's
    source."""
    async with get_database(request).transaction() as session:
        upload, video = await service.get_upload(session, upload_id)
        if upload.status != "pending":  # completed, or expired while this request streamed
            raise service.UploadCompleted(f"This upload is {upload.status}.")
        upload.offset = offset
        if length is not None:
            upload.length = length
        if video.status == "waiting_upload":
            video.status = "uploading"
            video.updated_at = utcnow()
        if length is not None and offset == length:
            await service.store_source(
                session,
                ctx,
                video,
                path,
                offset,
                filename=video.source_filename,
                content_type=request.headers.get("x-content-type") or None,
            )
            upload.status = "completed"
            upload.completed_at = utcnow()
    if upload.status == "completed":  # committed: the lock file has nothing left to guard
        await asyncio.to_thread(forget, path)
        return True
    return False
