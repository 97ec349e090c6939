"""Media files of ready videos at `/media/{video_id}/...`: HTTP Range, ETag, immutable caching
of segments, streamed from storage (local disk or S3, proxied: one URL scheme whatever the back
end, and the place where private videos are checked)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from moviie.errors import MoviieError
from moviie.http.routing import moviie_router
from moviie.http.session import Session
from moviie.playback.tokens import verify_playback_token
from moviie.storage.keys import video_key
from moviie.videos import repository as video_repository
from moviie.videos.errors import VideoNotFound

router = moviie_router(tags=["Media"])
# What playback may read: the HLS tree and the poster; never the uploaded source.
_MEDIA_PATH = re.compile(
    r"^(hls/([0-9a-z]{1,16}/)?[0-9a-zA-Z_.-]{1,64}|poster\.jpg|download\.mp4|storyboard\.(jpg|vtt))$"
)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt",
}
IMMUTABLE = "public, max-age=31536000, immutable"


class RangeNotSatisfiable(MoviieError):
    status = 416
    code = "range_not_satisfiable"
    title = "The requested range is outside the file"


class MediaNotFound(VideoNotFound):
    code = "media_not_found"


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, end) of a single `bytes=` range, None for the whole file."""
    match = _RANGE.match(header or "")
    if match is None:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # the last N bytes
        start, end = max(size - int(last), 0), size
    else:
        start = int(first)
        end = min(int(last) + 1, size) if last else size
    if start >= size or start >= end:
        error = RangeNotSatisfiable(f"The file has {size} bytes.")
        error.headers["Content-Range"] = f"bytes */{size}"
        raise error
    return start, end


@router.get("/media/{video_id}/{media_path:path}", include_in_schema=False)
async def media_file(
    video_id: Annotated[str, Path(max_length=64)],
    media_path: str,
    request: Request,
    session: Session,
    token: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response:
    if not _MEDIA_PATH.match(media_path) or ".." in media_path:
        raise MediaNotFound("No such media file.")
    video = await video_repository.get_live(session, video_id)
    if video is None or video.status != "ready":
        raise VideoNotFound(f"No ready video {video_id}.")
    if video.privacy == "private":
        await verify_playback_token(session, video.account_id, video.id, token)
    storage = request.app.state.uploads.storage
    key = video_key(video.account_id, video.id, media_path)
    info = await storage.stat(key)
    if info is None:
        raise MediaNotFound("No such media file.")
    etag = f'"{video.id}-{info.size}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": ("private, max-age=300" if video.privacy == "private" else IMMUTABLE),
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    suffix = "." + media_path.rsplit(".", 1)[-1]
    media_type = CONTENT_TYPES.get(suffix, "application/octet-stream")
    span = _byte_range(request.headers.get("range"), info.size)
    if span is None:
        headers["Content-Length"] = str(info.size)
        return StreamingResponse(storage.get_range(key), media_type=media_type, headers=headers)
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{info.size}"
    headers["Content-Length"] = str(end - start)
    return StreamingResponse(
        storage.get_range(key, start, end), status_code=206, media_type=media_type, headers=headers
    )
