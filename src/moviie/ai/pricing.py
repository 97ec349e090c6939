"""What AI materials cost, in one place: credits per started minute of video."""

from __future__ import annotations

import math

PER_MINUTE: dict[str, int] = {
    "subtitles": 1,
    "reels": 4,
    "ebook": 3,
    "quiz": 2,
    "lipsync": 10,
}
TRANSLATION_PER_MINUTE = 1  # on top, when subtitles are also translated


def started_minutes(duration_s: float) -> int:
    return max(1, math.ceil(duration_s / 60))


def price(material: str, duration_s: float, *, extra_per_minute: int = 0) -> int:
    return started_minutes(duration_s) * (PER_MINUTE[material] + extra_per_minute)
