"""From a transcript to a book's structure, offline: clean paragraphs, chapters where the topic
changes (TextTiling's depth score over sentence embeddings, snapped to a scene cut when one is
at hand), chapter titles from keyphrases, and an extractive summary per chapter."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from moviie.subtitles.cues import Sentence

BLOCK = 2  # sentences compared on each side of a gap
MIN_DEPTH = 0.03  # a valley shallower than this is not a change of topic
MIN_SENTENCES = 3  # in a chapter
SECONDS_PER_CHAPTER = 60  # at most one chapter a minute (past the first two; a cap)
PARAGRAPH_PAUSE_S = 1.5
PARAGRAPH_SENTENCES = 5
FILLERS = re.compile(r"\b(um+|uh+|erm|er|ah+|hmm+|you know|i mean)\b[,.]?\s*", re.IGNORECASE)
REPEATS = re.compile(r"\b(\w+)(\s+\1\b)+", re.IGNORECASE)


@dataclass
class Paragraph:
    start_s: float
    text: str


@dataclass
class Chapter:
    start_s: float
    end_s: float
    sentences: list[Sentence]
    title: str = ""
    summary: list[str] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)


def clean(text: str) -> str:
    """No fillers, no stammered repeats ("the the"), a capital first letter, a final stop."""
    text = FILLERS.sub("", text)
    text = REPEATS.sub(r"\1", text)
    text = re.sub(r"\s+([,.!?;:])", r"\1", re.sub(r"\s{2,}", " ", text)).strip(" ,")
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


def depth_scores(vectors: np.ndarray) -> list[float]:
    """For each gap between sentence i-1 and i (i = 1..n-1): how deep a valley the similarity
    of the blocks on either side makes (TextTiling, with embeddings for word counts)."""
    n = len(vectors)
    similarity = []
    for gap in range(1, n):
        left = vectors[max(0, gap - BLOCK) : gap].mean(axis=0)
        right = vectors[gap : gap + BLOCK].mean(axis=0)
        norm = float(np.linalg.norm(left) * np.linalg.norm(right)) or 1.0
        similarity.append(float(left @ right) / norm)
    depths = []
    for i, value in enumerate(similarity):
        peak_left = value
        for j in range(i - 1, -1, -1):
            if similarity[j] < peak_left:
                break
            peak_left = similarity[j]
        peak_right = value
        for j in range(i + 1, len(similarity)):
            if similarity[j] < peak_right:
                break
            peak_right = similarity[j]
        depths.append((peak_left - value) + (peak_right - value))
    return depths


def boundaries(
    sentences: Sequence[Sentence], vectors: np.ndarray, cuts: Sequence[float]
) -> list[int]:
    """Indices of the sentences that open a new chapter (the first is 0)."""
    n = len(sentences)
    if n < 2 * MIN_SENTENCES:
        return [0]
    talk = sentences[-1].end - sentences[0].start
    most = max(2, int(talk // SECONDS_PER_CHAPTER))
    depths = depth_scores(vectors)
    # A valley counts when it is deep for this talk (a standard deviation past the mean), and
    # deep at all: a talk on one topic has valleys too, only shallow ones.
    cutoff = max(MIN_DEPTH, float(np.mean(depths) + np.std(depths)))
    chosen: list[int] = []
    for depth, gap in sorted(((d, g + 1) for g, d in enumerate(depths)), reverse=True):
        if depth < cutoff or len(chosen) == most:
            break
        edges = sorted([0, *chosen, gap, n])
        if all(b - a >= MIN_SENTENCES for a, b in itertools.pairwise(edges)):
            chosen.append(gap)
    return [0, *sorted(_snap(g, sentences, cuts) for g in chosen)]


def _snap(gap: int, sentences: Sequence[Sentence], cuts: Sequence[float]) -> int:
    """Move a boundary by a sentence at most, to where the picture cuts, if it cuts there."""
    for candidate in (gap, gap - 1, gap + 1):
        if 0 < candidate < len(sentences):
            before, after = sentences[candidate - 1].end, sentences[candidate].start
            if any(before - 0.5 <= cut <= after + 0.5 for cut in cuts):
                return candidate
    return gap


def paragraphs_of(sentences: Sequence[Sentence]) -> list[Paragraph]:
    """A new paragraph at a long pause, or after a few sentences."""
    found: list[Paragraph] = []
    current: list[Sentence] = []
    for i, sentence in enumerate(sentences):
        current.append(sentence)
        following = sentences[i + 1] if i + 1 < len(sentences) else None
        pause = following is not None and following.start - sentence.end >= PARAGRAPH_PAUSE_S
        if following is None or pause or len(current) >= PARAGRAPH_SENTENCES:
            text = clean(" ".join(s.text for s in current))  # one pass: joins what was cut
            if text:
                found.append(Paragraph(current[0].start, text))
            current = []
    return found


def summary_of(sentences: Sequence[Sentence], vectors: np.ndarray, count: int = 2) -> list[str]:
    """The sentences closest to what the chapter is about (its centroid), in their order."""
    if len(sentences) <= count:
        return [clean(s.text) for s in sentences]
    centroid = vectors.mean(axis=0)
    ranked = np.argsort(-(vectors @ centroid))[:count]
    return [clean(sentences[i].text) for i in sorted(int(r) for r in ranked)]


def chapters_of(
    sentences: Sequence[Sentence],
    vectors: np.ndarray,
    cuts: Sequence[float],
    title_of: Callable[[str], str],
) -> list[Chapter]:
    starts = boundaries(sentences, vectors, cuts)
    chapters = []
    for first, last in zip(starts, [*starts[1:], len(sentences)], strict=True):
        part = list(sentences[first:last])
        chapter = Chapter(part[0].start, part[-1].end, part)
        chapter.title = title_of(" ".join(s.text for s in part))
        chapter.summary = summary_of(part, vectors[first:last])
        chapter.paragraphs = paragraphs_of(part)
        chapters.append(chapter)
    return chapters
