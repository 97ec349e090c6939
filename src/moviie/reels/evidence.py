"""What selection weighs, read from the talk itself: keyphrases and sentence embeddings
(ai/text.py), loudness per second, scene cuts (ffmpeg's scene score)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from moviie.ai.text import embeddings, keyphrases
from moviie.reels.selection import Evidence
from moviie.subtitles.cues import Sentence


def title_of(text: str, language: str) -> str:
    phrases = [phrase for phrase, _ in keyphrases(text, language, top=2)]
    if not phrases:
        return " ".join(text.split()[:6])
    return " · ".join(p[:1].upper() + p[1:] for p in phrases)


def loudness(pcm: np.ndarray, rate: int) -> list[float]:
    """RMS of each second of audio."""
    seconds = len(pcm) // rate
    if seconds == 0:
        return []
    frames = pcm[: seconds * rate].reshape(seconds, rate)
    return [float(v) for v in np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))]


def gather(
    sentences: Sequence[Sentence],
    language: str,
    pcm: np.ndarray,
    rate: int,
    cuts: Sequence[float],
) -> Evidence:
    text = " ".join(s.text for s in sentences)
    return Evidence(
        sentences=sentences,
        keyphrases=keyphrases(text, language),
        embeddings=embeddings([s.text for s in sentences]),
        loudness=loudness(pcm, rate),
        scene_cuts=list(cuts),
    )
