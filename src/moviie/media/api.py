"""Media files of ready videos at `/media/{video_id}/...`: HTTP Range, ETag, immutable caching
of segments, streamed from storage (local disk or S3, proxied: one URL scheme whatever the back
end, and the place where private videos are checked)."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import AsyncIterator, Sequence
from typing import Annotated
from urllib.parse import quote

from fastapi import Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from moviie.db.models import Dub, SubtitleTrack, Video
from moviie.dubbing import repository as dub_repository
from moviie.dubbing.views import dub_prefix
from moviie.errors import MoviieError
from moviie.http.routing import moviie_router
from moviie.http.session import Session
from moviie.media.transcode import MASTER
from moviie.playback.tokens import verify_playback_token
from moviie.storage.base import Storage
from moviie.storage.keys import video_key
from moviie.subtitles import repository as subtitle_repository
from moviie.subtitles.service import media_path_to_key
from moviie.usage.meter import BandwidthMeter
from moviie.videos import repository as video_repository
from moviie.videos.errors import VideoNotFound

router = moviie_router(tags=["Media"])
# What playback may read: the HLS tree and the poster; never the uploaded source.
_MEDIA_PATH = re.compile(
    r"^(hls/([0-9a-z]{1,16}/|dubs/job_[0-9a-z]{26}/)?[0-9a-zA-Z_.-]{1,64}"
    r"|poster\.jpg|download\.mp4|storyboard\.(jpg|vtt)"
    r"|subtitles/[a-z]{2,3}(-[a-z0-9]{2,8})?\.(vtt|srt)"
    r"|materials/job_[0-9a-z]{26}/[a-z0-9_-]{1,40}\.[a-z0-9.]{1,12})$"
)
# A subtitle track's HLS media playlist: made from the track list, not stored.
_SUBTITLE_PLAYLIST = re.compile(r"^hls/subtitles/([a-z]{2,3}(-[a-z0-9]{2,8})?)\.m3u8$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".gift": "text/plain; charset=utf-8",
    ".zip": "application/zip",
}
IMMUTABLE = "public, max-age=31536000, immutable"
# Playlists may gain entries (a subtitles track added later): cached briefly, never immutable.
PLAYLIST_CACHE = "public, max-age=60"
PRIVATE_CACHE = "private, max-age=300"
_URI_ATTRIBUTE = re.compile(r'URI="([^"]+)"')
_GROUP_ID = re.compile(r'GROUP-ID="([^"]+)"')
_NAME = re.compile(r'NAME="[^"]*"')
SUBTITLE_GROUP = "subs"
AUDIO_GROUP = "audio"


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


@router.api_route(
    "/media/{video_id}/{media_path:path}", methods=["GET", "HEAD"], include_in_schema=False
)
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
    private = video.privacy == "private"
    if private:
        await verify_playback_token(session, video.account_id, video.id, token)
    storage = request.app.state.uploads.storage
    meter: BandwidthMeter = request.app.state.bandwidth
    await meter.check_quota(video.account_id)
    suffix = "." + media_path.rsplit(".", 1)[-1]
    media_type = CONTENT_TYPES.get(suffix, "application/octet-stream")
    if suffix == ".m3u8" or media_path.startswith(("subtitles/", "materials/")):
        # Playlists and subtitles are small and served whole: the master names the subtitle
        # tracks of the moment, a replaced track gets a new ETag, and a private video's
        # playlists carry the token on every URI (for players that do not add it themselves:
        # Safari's native HLS, a customer's own player).
        if suffix == ".m3u8":
            text = await _playlist(session, storage, video, media_path)
            content = (with_token(text, token) if private and token else text).encode()
        else:
            stored = media_path_to_key(media_path) if suffix in (".vtt", ".srt") else media_path
            content = await _whole(storage, video, stored)
        etag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
        cache = PRIVATE_CACHE if private else PLAYLIST_CACHE
        headers = {"ETag": etag, "Cache-Control": cache}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(content))
            return Response(status_code=200, media_type=media_type, headers=headers)
        meter.count(video.account_id, video.id, len(content))
        return Response(content, media_type=media_type, headers=headers)
    key = video_key(video.account_id, video.id, media_path)
    info = await storage.stat(key)
    if info is None:
        raise MediaNotFound("No such media file.")
    cache = PRIVATE_CACHE if private else IMMUTABLE
    etag = f'"{video.id}-{info.size}"'
    headers = {"ETag": etag, "Accept-Ranges": "bytes", "Cache-Control": cache}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    span = _byte_range(request.headers.get("range"), info.size)
    start, end = span or (0, info.size)
    headers["Content-Length"] = str(end - start)
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{info.size}"
    if request.method == "HEAD":  # what a GET would answer, without the bytes (none counted)
        return Response(status_code=status, media_type=media_type, headers=headers)
    chunks = storage.get_range(key) if span is None else storage.get_range(key, start, end)
    return StreamingResponse(
        _metered(chunks, meter, video.account_id, video.id),
        status_code=status,
        media_type=media_type,
        headers=headers,
    )


async def _metered(
    chunks: AsyncIterator[bytes], meter: BandwidthMeter, account_id: str, video_id: str
) -> AsyncIterator[bytes]:
    """Count what was handed to the server, also when the client goes away mid-file."""
    sent = 0
    try:
        async for chunk in chunks:
            yield chunk
            sent += len(chunk)
    finally:
        meter.count(account_id, video_id, sent)


def with_token(playlist: str, token: str) -> str:
    """Append `token=` to every URI of an HLS playlist: lines that are URIs and `URI="..."`
    attributes (the fMP4 init segment, renditions named by EXT-X-MEDIA)."""
    param = "token=" + quote(token, safe="")

    def add(uri: str) -> str:
        return f"{uri}{'&' if '?' in uri else '?'}{param}"

    lines = []
    for line in playlist.splitlines():
        if line and not line.startswith("#"):
            line = add(line.strip())
        elif line.startswith("#") and 'URI="' in line:
            line = _URI_ATTRIBUTE.sub(lambda m: f'URI="{add(m.group(1))}"', line)
        lines.append(line)
    return "\n".join(lines) + "\n"


async def _playlist(session: Session, storage: Storage, video: Video, media_path: str) -> str:
    """The stored playlist; the master with the video's subtitle tracks; a subtitle track's
    playlist made on the fly. Rendition playlists (most requests) cost no query."""
    subtitle = _SUBTITLE_PLAYLIST.match(media_path)
    if subtitle is not None:
        language = subtitle.group(1)
        if await subtitle_repository.get_track(session, video.id, language) is None:
            raise MediaNotFound("No such subtitle track.")
        return subtitle_playlist(f"../../subtitles/{language}.vtt", video.duration_s or 0.0)
    text = (await _whole(storage, video, media_path)).decode()
    if media_path == f"hls/{MASTER}":
        tracks = await subtitle_repository.tracks_of(session, video.id)
        dubs = await dub_repository.dubs_of(session, video.id)
        text = with_renditions(text, tracks, dubs)
    return text


def subtitle_playlist(vtt_uri: str, duration_s: float) -> str:
    """One WebVTT file as the whole of a subtitle rendition."""
    seconds = max(duration_s, 0.001)
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        f"#EXT-X-TARGETDURATION:{math.ceil(seconds)}\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:{seconds:.3f},\n{vtt_uri}\n#EXT-X-ENDLIST\n"
    )


def with_renditions(master: str, tracks: Sequence[SubtitleTrack], dubs: Sequence[Dub]) -> str:
    """The master playlist with one `EXT-X-MEDIA TYPE=SUBTITLES` per subtitle track and one
    `TYPE=AUDIO` rendition per dub, in the audio group beside the original sound (named
    "Original"); every variant names the groups. Videos processed before the sound became a
    rendition of its own carry it in their variants: there the original has no URI."""
    lines = master.splitlines()
    media = [
        f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{SUBTITLE_GROUP}",NAME="{t.label}",'
        f'LANGUAGE="{t.language}",DEFAULT=NO,AUTOSELECT=YES,URI="subtitles/{t.language}.m3u8"'
        for t in tracks
    ]
    original = next((i for i, line in enumerate(lines) if "TYPE=AUDIO" in line), None)
    group = AUDIO_GROUP
    if dubs:
        if original is not None:  # ffmpeg's line for the original: named, in its own group
            found = _GROUP_ID.search(lines[original])
            group = found.group(1) if found else AUDIO_GROUP
            lines[original] = _NAME.sub('NAME="Original"', lines[original])
        else:
            media.append(
                f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{group}",NAME="Original",'
                'DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2"'
            )
        media += [
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{group}",NAME="{d.label} (dub)",'
            f'LANGUAGE="{d.language}",DEFAULT=NO,AUTOSELECT=YES,CHANNELS="2",'
            f'URI="{dub_prefix(d.job_id).removeprefix("hls/")}/index.m3u8"'
            for d in dubs
        ]
    if not media:
        return master
    out: list[str] = []
    for line in lines:
        if line.startswith("#EXT-X-STREAM-INF:"):
            if media:
                out.extend(media)
                media = []
            if tracks:
                line += f',SUBTITLES="{SUBTITLE_GROUP}"'
            if dubs and "AUDIO=" not in line:
                line += f',AUDIO="{group}"'
        out.append(line)
    return "\n".join(out) + "\n"


async def _whole(storage: Storage, video: Video, path: str) -> bytes:
    key = video_key(video.account_id, video.id, path)
    if await storage.stat(key) is None:
        raise MediaNotFound("No such media file.")
    return b"".join([chunk async for chunk in storage.get_range(key)])
