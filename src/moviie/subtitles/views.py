"""How a track is shown; imported by the videos and playback views too (no service here)."""

from __future__ import annotations

from moviie.db.models import SubtitleTrack
from moviie.subtitles.schemas import SubtitleTrackOut


def track_view(track: SubtitleTrack, public_url: str) -> SubtitleTrackOut:
    base = f"{public_url}/media/{track.video_id}/subtitles/{track.language}"
    return SubtitleTrackOut(
        language=track.language,
        label=track.label,
        source=track.source,
        vtt=f"{base}.vtt",
        srt=f"{base}.srt",
    )
