"""Which moments make reels, and why: candidate windows that start and end on sentence
boundaries, scored by signals a person can check (a strong opening, the talk's keyphrases,
whether the window stands on its own, speech density, loudness, scene cuts). Every reel carries
its score breakdown."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from moviie.subtitles.cues import Sentence

WEIGHTS = {
    "opening": 0.20,
    "keywords": 0.25,
    "self_contained": 0.25,
    "density": 0.10,
    "energy": 0.10,
    "scenes": 0.10,
}
_NUMBER = re.compile(
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|percent)\b"
)
_CLAIM = re.compile(
    r"^(here'?s|the (key|secret|truth|problem|best|worst)|you (need|should|can)|never|always|"
    r"most|why|how|what if|stop|imagine|this is)\b"
)


@dataclass
class Window:
    first: int  # sentence indices, inclusive
    last: int
    start: float
    end: float
    text: str
    signals: dict[str, float] = field(default_factory=dict)
    score: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.end - self.start

    def overlaps(self, other: Window) -> bool:
        return self.start < other.end and other.start < self.end


def candidates(sentences: Sequence[Sentence], min_s: float, max_s: float) -> list[Window]:
    windows = []
    for i in range(len(sentences)):
        for j in range(i, len(sentences)):
            duration = sentences[j].end - sentences[i].start
            if duration > max_s:
                break
            if duration >= min_s:
                text = " ".join(s.text for s in sentences[i : j + 1])
                windows.append(Window(i, j, sentences[i].start, sentences[j].end, text))
    return windows


def opening_strength(sentence: str) -> float:
    lowered = sentence.strip().lower()
    if lowered.endswith("?"):
        return 1.0
    if _NUMBER.search(lowered):
        return 0.8
    return 0.6 if _CLAIM.match(lowered) else 0.0


@dataclass(frozen=True)
class Evidence:
    """What the signals are computed from, for the whole talk."""

    sentences: Sequence[Sentence]
    keyphrases: Sequence[tuple[str, float]]  # phrase, weight (higher is more salient)
    embeddings: np.ndarray  # one normalized row per sentence
    loudness: Sequence[float]  # RMS per second of audio
    scene_cuts: Sequence[float]  # seconds


def score(windows: list[Window], evidence: Evidence) -> None:
    """Fill each window's signals (each scaled to 0..1 over the candidates) and score."""
    if not windows:
        return
    raw: dict[str, list[float]] = {name: [] for name in WEIGHTS}
    mean_loudness = float(np.mean(evidence.loudness)) if len(evidence.loudness) else 0.0
    for w in windows:
        lowered = w.text.lower()
        words = max(len(w.text.split()), 1)
        raw["opening"].append(opening_strength(evidence.sentences[w.first].text))
        raw["keywords"].append(
            sum(weight for phrase, weight in evidence.keyphrases if phrase.lower() in lowered)
            / words**0.5
        )
        raw["self_contained"].append(_self_contained(w, evidence.embeddings))
        raw["density"].append(words / max(w.duration_s, 0.1))
        seconds = evidence.loudness[int(w.start) : max(int(w.end), int(w.start) + 1)]
        loud = float(np.mean(seconds)) if len(seconds) else 0.0
        raw["energy"].append(loud / mean_loudness if mean_loudness else 0.0)
        cuts = sum(1 for t in evidence.scene_cuts if w.start < t < w.end)
        raw["scenes"].append(cuts / max(w.duration_s / 60, 0.1))
    scaled = {name: _unit(values) for name, values in raw.items()}
    for n, w in enumerate(windows):
        w.signals = {name: round(scaled[name][n], 3) for name in WEIGHTS}
        w.score = round(sum(WEIGHTS[name] * w.signals[name] for name in WEIGHTS), 4)


def _self_contained(window: Window, embeddings: np.ndarray) -> float:
    """How much the window's sentences hang together, less how much it leans on its
    neighbours (a window that needs the sentence before it to make sense scores low)."""
    inside = embeddings[window.first : window.last + 1]
    centroid = inside.mean(axis=0)
    norm = float(np.linalg.norm(centroid)) or 1.0
    centroid = centroid / norm
    coherence = float(np.mean(inside @ centroid))
    around = [i for i in (window.first - 1, window.last + 1) if 0 <= i < len(embeddings)]
    context = float(np.mean(embeddings[around] @ centroid)) if around else 0.0
    return coherence - 0.5 * context


def _unit(values: list[float]) -> list[float]:
    low, high = min(values), max(values)
    if high - low < 1e-9:
        return [0.5 if high > 0 else 0.0 for _ in values]
    return [(v - low) / (high - low) for v in values]


def pick(windows: list[Window], count: int) -> list[Window]:
    """The best `count` windows that do not overlap, in the order they come in the video."""
    chosen: list[Window] = []
    for window in sorted(windows, key=lambda w: (-w.score, w.start)):
        if len(chosen) == count:
            break
        if not any(window.overlaps(other) for other in chosen):
            chosen.append(window)
    return sorted(chosen, key=lambda w: w.start)
