"""The adaptive bitrate ladder: one table of rungs, capped at the source (no upscaling)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rung:
    height: int
    video_kbps: int
    audio_kbps: int


# H.264 + AAC, bitrates of the usual "720p 2.8 Mb/s" kind (Apple's HLS authoring spec range).
RUNGS = (
    Rung(1080, 5000, 128),
    Rung(720, 2800, 128),
    Rung(480, 1400, 96),
    Rung(360, 800, 96),
    Rung(240, 400, 64),
)


# The sound: one AAC rendition (`audio/`), alone for a source without picture, else in the
# master's audio group `audio` beside the video variants (HLS needs no ladder for 128 kb/s).
AUDIO_ONLY = "audio"
AUDIO_ONLY_KBPS = 128
AUDIO_GROUP = "audio"


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    video_kbps: int
    audio_kbps: int


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def renditions_for(width: int, height: int) -> list[Rendition]:
    """The rungs at or below the source's short side, so a portrait 1080x1920 phone video gets a
    1080p rung of 1080x1920 (a rung names the short side, as players and viewers count it). A
    source smaller than the lowest rung gets one rendition at its own size. Sizes are rounded to
    even, as H.264 4:2:0 needs; the aspect ratio is kept."""
    short = min(width, height)
    chosen = [r for r in RUNGS if r.height <= short] or [RUNGS[-1]]
    result = []
    for rung in chosen:
        out_short = min(rung.height, short)
        scale = out_short / short
        out_w, out_h = _even(width * scale), _even(height * scale)
        name = f"{min(out_w, out_h)}p"
        result.append(Rendition(name, out_w, out_h, rung.video_kbps, rung.audio_kbps))
    return result
