"""How a dub is shown (by the API and by the job that made it)."""

from __future__ import annotations

from moviie.db.models import Dub, Video
from moviie.dubbing.schemas import DubOut, LipsyncVideoOut
from moviie.videos.service import playback_urls


def dub_prefix(job_id: str) -> str:
    """Where a dub's HLS rendition lives, beside the video's (`hls/`): named by its job, so a
    newer dub never serves under an URL a player cached for an older one."""
    return f"hls/dubs/{job_id}"


def dub_view(dub: Dub, synced: Video | None, public_url: str) -> DubOut:
    media = f"{public_url}/media/{dub.video_id}"
    materials = f"{media}/materials/{dub.job_id}"
    lipsync = None
    if synced is not None:
        urls = playback_urls(synced, public_url)
        lipsync = LipsyncVideoOut(
            video_id=synced.id,
            status=synced.status,
            embed=f"{public_url}/embed/{synced.id}",
            hls=urls.hls if urls else None,
            mp4=urls.mp4 if urls else None,
        )
    return DubOut(
        language=dub.language,
        label=dub.label,
        job_id=dub.job_id,
        quality="draft" if dub.quality == "draft" else "standard",
        voice=dub.voice,
        audio={
            "hls": f"{media}/{dub_prefix(dub.job_id)}/index.m3u8",
            "m4a": f"{materials}/dub.m4a",
        },
        mp4=f"{materials}/dubbed.mp4",
        subtitles=f"{media}/subtitles/{dub.language}.vtt",
        lipsync=lipsync,
        created_at=dub.created_at,
        updated_at=dub.updated_at,
    )
