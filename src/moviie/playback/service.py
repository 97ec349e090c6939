"""Playback of ready videos: the URLs a player needs, the embed snippet, and who may have them."""

from __future__ import annotations

import html
import json
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Video
from moviie.errors import Conflict
from moviie.playback.schemas import EmbedOut, PlaybackInfoOut
from moviie.playback.tokens import PlaybackForbidden, verify_playback_token
from moviie.videos import service as videos


class VideoNotReady(Conflict):
    code = "video_not_ready"
    title = "The video is not ready yet"


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


def playback_info(video: Video, public_url: str) -> PlaybackInfoOut:
    urls = videos.playback_urls(video, public_url)
    assert urls is not None
    return PlaybackInfoOut(
        hls=urls.hls,
        poster=urls.poster,
        mp4=urls.mp4,
        subtitles=[],
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


def embed_page(video: Video, public_url: str, token: str | None) -> str:
    """A small page: an HTML5 video on hls.js (vendored), its poster, a responsive 16:9 box.
    With a token, hls.js adds it to every request the player makes (playlists, segments)."""
    urls = videos.playback_urls(video, public_url)
    assert urls is not None
    assert urls.hls is not None
    assert urls.poster is not None
    suffix = f"?{urlencode({'token': token})}" if token else ""
    config = json.dumps({"src": urls.hls + suffix, "token": token}).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(video.title or "Video")}</title>
<style>html,body{{margin:0;height:100%;background:#000}}
.box{{position:relative;width:100%;padding-top:56.25%}}
video{{position:absolute;inset:0;width:100%;height:100%;background:#000}}</style>
</head><body><div class="box">
<video id="player" controls playsinline preload="metadata"
 poster="{html.escape(urls.poster + suffix, quote=True)}"></video></div>
<script src="/static/vendor/hls.js/hls.min.js"></script>
<script>
const config = {config};
const video = document.getElementById("player");
function withToken(url) {{
  if (!config.token) return url;
  const u = new URL(url, location.href);
  u.searchParams.set("token", config.token);
  return u.toString();
}}
if (window.Hls && Hls.isSupported()) {{
  const hls = new Hls({{ xhrSetup: (xhr, url) => xhr.open("GET", withToken(url), true) }});
  hls.loadSource(config.src);
  hls.attachMedia(video);
}} else if (video.canPlayType("application/vnd.apple.mpegurl")) {{
  video.src = config.src;
}}
</script></body></html>
"""
