from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query
from fastapi.responses import HTMLResponse

from moviie.analytics.beacon import beacon_for
from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.db.models import SigningKey
from moviie.dependencies import Uploads
from moviie.http.pagination import Page, Pagination, page_of
from moviie.http.routing import moviie_router
from moviie.http.session import Session
from moviie.playback import service as playback
from moviie.playback import signing_keys
from moviie.playback.schemas import EmbedOut, PlaybackInfoOut, SigningKeyCreated, SigningKeyOut
from moviie.subtitles import repository as subtitle_repository
from moviie.videos import repository as video_repository
from moviie.videos.errors import VideoNotFound, VideoNotReady

router = moviie_router(tags=["Signing keys"])
KeysWriter = Annotated[ApiCaller, Depends(require_scope("keys:write"))]
SigningKeyId = Annotated[str, Path(max_length=64, examples=["sk_01jeq3v5m3f6a9b1c2d3e4f5g6"])]


def _out(row: SigningKey) -> SigningKeyOut:
    return SigningKeyOut(id=row.id, created_at=row.created_at)


@router.post(
    "/v1/signing-keys", status_code=201, summary="Create a signing key for playback tokens"
)
async def create_signing_key(session: Session, caller: KeysWriter) -> SigningKeyCreated:
    created = await signing_keys.create_signing_key(session, caller.account_id)
    return SigningKeyCreated(
        id=created.row.id, created_at=created.row.created_at, private_key=created.private_pem
    )


@router.get("/v1/signing-keys", summary="List signing keys")
async def list_signing_keys(
    session: Session, caller: KeysWriter, page: Pagination
) -> Page[SigningKeyOut]:
    rows, has_more = await signing_keys.list_signing_keys(
        session, caller.account_id, limit=page.limit, after_id=page.after_id
    )
    return page_of([_out(r) for r in rows], has_more, rows[-1].id if rows else None)


@router.get("/v1/signing-keys/{key_id}", summary="Get a signing key")
async def get_signing_key(
    key_id: SigningKeyId, session: Session, caller: KeysWriter
) -> SigningKeyOut:
    return _out(await signing_keys.get_signing_key(session, caller.account_id, key_id))


@router.delete("/v1/signing-keys/{key_id}", status_code=204, summary="Delete a signing key")
async def delete_signing_key(key_id: SigningKeyId, session: Session, caller: KeysWriter) -> None:
    await signing_keys.delete_signing_key(session, caller.account_id, key_id)


Player = Annotated[ApiCaller, Depends(require_scope("playback:read"))]
VideoId = Annotated[str, Path(max_length=64, examples=["vid_01jeq3v5m3f6a9b1c2d3e4f5g6"])]
PLAYBACK_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "The video is not ready (`video_not_ready`)."}
}


@router.get(
    "/v1/videos/{video_id}/playback",
    summary="Playback URLs, for custom players",
    tags=["Playback"],
    responses=PLAYBACK_ERRORS,
)
async def get_playback(
    video_id: VideoId, session: Session, caller: Player, ctx: Uploads
) -> PlaybackInfoOut:
    video = await playback.playable_video(
        session, caller.account_id, video_id, publishable=caller.key_type == "publishable"
    )
    tracks = await subtitle_repository.tracks_of(session, video.id)
    return playback.playback_info(video, ctx.public_url, tracks)


@router.get(
    "/v1/videos/{video_id}/embed",
    summary="The embed snippet of a video",
    tags=["Playback"],
    responses=PLAYBACK_ERRORS,
)
async def get_embed(video_id: VideoId, session: Session, caller: Player, ctx: Uploads) -> EmbedOut:
    video = await playback.playable_video(
        session, caller.account_id, video_id, publishable=caller.key_type == "publishable"
    )
    return playback.embed_info(video, ctx.public_url)


@router.get("/embed/{video_id}", include_in_schema=False)
async def embed_page(
    video_id: VideoId,
    session: Session,
    ctx: Uploads,
    token: Annotated[str | None, Query(max_length=4096)] = None,
) -> HTMLResponse:
    video = await video_repository.get_live(session, video_id)
    if video is None:
        raise VideoNotFound(f"No video {video_id}.")
    if video.status != "ready":
        raise VideoNotReady(f"The video is {video.status}.")
    await playback.check_page_access(session, video, token)
    tracks = await subtitle_repository.tracks_of(session, video.id)
    cache = "private, no-store" if video.privacy == "private" else "public, max-age=60"
    return HTMLResponse(
        playback.embed_page(video, ctx.public_url, token, tracks, beacon_for(ctx.secret, video.id)),
        headers={"Cache-Control": cache},
    )
