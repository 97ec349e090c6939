"""Translating cues through the chat provider: one line per cue, timings kept."""

from __future__ import annotations

from collections.abc import Sequence

from moviie.config import Settings
from moviie.providers.chat import translate_lines
from moviie.subtitles.cues import Cue, wrap


async def translate_cues(settings: Settings, cues: Sequence[Cue], target: str) -> list[Cue]:
    texts = await translate_lines(settings, [c.text.replace("\n", " ") for c in cues], target)
    return [
        Cue(cue.start, cue.end, wrap(text) or text) for cue, text in zip(cues, texts, strict=True)
    ]
