"""Playback of ready videos: the URLs a player needs, the embed snippet, and who may have them."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import SubtitleTrack, Video
from moviie.playback.schemas import EmbedOut, PlaybackInfoOut
from moviie.playback.tokens import PlaybackForbidden, verify_playback_token
from moviie.subtitles.views import track_view
from moviie.videos import service as videos
from moviie.videos.errors import VideoNotReady


async def playable_video(
    session: AsyncSession, account_id: str, video_id: str, *, publishable: bool
) -> Video:
    """The account's ready video; publishable keys (browsers) see only public ones."""
    video = await videos.get_video(session, account_id, video_id)
    if video.status != "ready":
        raise VideoNotReady(f"The video is {video.status}; wait for `video.ready`.")
    if publishable and video.privacy == "private":
        raise PlaybackForbidden("Private videos play with a token your backend signs.")
    return video


def playback_info(
    video: Video, public_url: str, tracks: Sequence[SubtitleTrack]
) -> PlaybackInfoOut:
    urls = videos.playback_urls(video, public_url)
    assert urls is not None
    return PlaybackInfoOut(
        hls=urls.hls,
        poster=urls.poster,
        mp4=urls.mp4,
        subtitles=[track_view(t, public_url) for t in tracks],
        embed=embed_url(video, public_url),
    )


def embed_url(video: Video, public_url: str) -> str:
    return f"{public_url}/embed/{video.id}"


def embed_info(video: Video, public_url: str) -> EmbedOut:
    url = embed_url(video, public_url)
    title = html.escape(video.title or "Video", quote=True)
    snippet = (
        f'<div style="position:relative;padding-top:56.25%">'
        f'<iframe src="{url}" title="{title}" allow="autoplay; fullscreen; picture-in-picture" '
        f'allowfullscreen style="position:absolute;inset:0;width:100%;height:100%;border:0">'
        f"</iframe></div>"
    )
    return EmbedOut(html=snippet, url=url, width=video.width, height=video.height)


async def check_page_access(session: AsyncSession, video: Video, token: str | None) -> None:
    if video.privacy == "private":
        await verify_playback_token(session, video.account_id, video.id, token)


def embed_page(
    video: Video,
    public_url: str,
    token: str | None,
    tracks: Sequence[SubtitleTrack],
    beacon: str,
) -> str:
    """A small page: the video on hls.js (vendored) behind Moviie's controls (quality menu,
    captions, audio language when dubbed, storyboard thumbnails on the seek bar), its poster, a
    responsive 16:9 box. With a token, the player adds it to every request it makes
    (playlists, segments, thumbnails)."""
    urls = videos.playback_urls(video, public_url)
    assert urls is not None
    assert urls.hls is not None
    suffix = f"?{urlencode({'token': token})}" if token else ""
    media = f"{public_url}/media/{video.id}"
    config: dict[str, object] = {
        "src": urls.hls + suffix,
        "token": token,
        "storyboard": None if video.audio_only else f"{media}/storyboard.vtt",
        "subtitles": [
            {"lang": t.language, "label": t.label, "url": track_view(t, public_url).vtt + suffix}
            for t in tracks
        ],
        # The player's audience events, signed for this video (the page holds no key).
        "analytics": {
            "url": f"{public_url}/v1/analytics/events",
            "video_id": video.id,
            "beacon": beacon,
        },
    }
    # JSON inside <script>: "</" must not end the element early.
    settings = json.dumps(config).replace("</", "<\\/")
    poster = f' poster="{html.escape(urls.poster + suffix, quote=True)}"' if urls.poster else ""
    kind = " mv-audio" if video.audio_only else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(video.title or "Video")}</title>
<link rel="stylesheet" href="/static/player/player.css">
</head><body>
<div class="mv{kind}" id="mv">
<video id="player" playsinline preload="metadata" crossorigin="anonymous"{poster}></video>
<div class="mv-bar">
<button class="mv-play" type="button" aria-label="Play"></button>
<span class="mv-time">0:00 / 0:00</span>
<div class="mv-seek" role="slider" aria-label="Seek"><div class="mv-track">
<div class="mv-buffered"></div><div class="mv-played"></div></div>
<div class="mv-thumb"><span></span></div></div>
<select class="mv-captions mv-hidden" aria-label="Captions"><option value="">CC off</option>
</select>
<select class="mv-dub mv-hidden" aria-label="Audio language"></select>
<select class="mv-quality mv-hidden" aria-label="Quality"></select>
<button class="mv-mute" type="button" aria-label="Mute"></button>
<button class="mv-full" type="button" aria-label="Full screen"></button>
</div></div>
<script type="application/json" id="mv-config">{settings}</script>
<script src="/static/vendor/hls.js/hls.min.js"></script>
<script src="/static/player/player.js"></script>
</body></html>
"""
