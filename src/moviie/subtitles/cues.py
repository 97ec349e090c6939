"""Cues a person can read: at most 2 lines of 42 characters, on screen 1 to 7 seconds, cut where
the speaker stops (a sentence end or a pause), never in the middle of a word."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_LINE = 42
MAX_LINES = 2
MIN_DURATION_S = 1.0
MAX_DURATION_S = 7.0
PAUSE_S = 0.6  # a silence this long ends a cue
SENTENCE_END = (".", "?", "!", "…", "。", "\uff1f", "\uff01")  # and CJK full-width ? !


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float


def words_from(raw: Sequence[Mapping[str, Any]]) -> list[Word]:
    """Words as a job result stores them (`{"text", "start", "end"}`)."""
    return [Word(str(w["text"]), float(w["start"]), float(w["end"])) for w in raw]


def spread(text: str, start: float, end: float) -> list[Word]:
    """A text's words timed as if said evenly (by characters) over [start, end): a translation
    has no timings of its own, only its segment's."""
    tokens = text.split()
    total = sum(len(t) + 1 for t in tokens) or 1
    per_char = max(end - start, 0.0) / total
    words, at = [], start
    for token in tokens:
        length = (len(token) + 1) * per_char
        words.append(Word(token, round(at, 3), round(at + length, 3)))
        at += length
    return words


@dataclass(frozen=True)
class Sentence:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str  # its lines joined by "\n"


def cues_from_words(words: Sequence[Word], max_line: int = MAX_LINE) -> list[Cue]:
    """`max_line`: 42 for a landscape player; reels' vertical frames take fewer."""
    groups = word_groups(words, max_line)
    return _timed(groups, max_line)


def word_groups(words: Sequence[Word], max_line: int = MAX_LINE) -> list[list[Word]]:
    """The words of each cue."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for i, word in enumerate(words):
        if current and not _fits(current, word, max_line):
            groups.append(current)
            current = []
        current.append(word)
        following = words[i + 1] if i + 1 < len(words) else None
        if following is not None and _ends_here(current, word, following):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return [g for g in groups if g]


def text_of(words: Sequence[Word]) -> str:
    return " ".join(w.text.strip() for w in words if w.text.strip())


def _fits(current: list[Word], word: Word, max_line: int) -> bool:
    candidate = [*current, word]
    if word.end - current[0].start > MAX_DURATION_S:
        return False
    return wrap(text_of(candidate), max_line) is not None


def _ends_here(current: list[Word], word: Word, following: Word) -> bool:
    """A sentence end or a pause closes a cue, once it has been up long enough to read."""
    long_enough = word.end - current[0].start >= MIN_DURATION_S
    sentence = word.text.strip().endswith(SENTENCE_END)
    pause = following.start - word.end >= PAUSE_S
    return pause or (sentence and long_enough)


def wrap(text: str, max_line: int = MAX_LINE) -> str | None:
    """`text` on at most two lines of at most `max_line` characters, balanced; None if it
    cannot be."""
    if len(text) <= max_line:
        return text
    words = text.split(" ")
    best: tuple[int, str] | None = None
    for cut in range(1, len(words)):
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        if len(first) <= max_line and len(second) <= max_line:
            score = abs(len(first) - len(second))
            if best is None or score < best[0]:
                best = (score, f"{first}\n{second}")
    return best[1] if best else None


def _timed(groups: list[list[Word]], max_line: int) -> list[Cue]:
    """Each cue from its first word's start to its last word's end, stretched to 1 s when that
    is shorter (never over the next cue)."""
    cues: list[Cue] = []
    for i, group in enumerate(groups):
        start, end = group[0].start, group[-1].end
        if end - start < MIN_DURATION_S:
            limit = groups[i + 1][0].start if i + 1 < len(groups) else start + MIN_DURATION_S
            end = max(end, min(start + MIN_DURATION_S, limit))
        text = wrap(text_of(group), max_line) or text_of(group)[: max_line * MAX_LINES]
        cues.append(Cue(round(start, 3), round(end, 3), text))
    return cues


PAUSE_ENDS_SENTENCE_S = 0.8
MIN_SENTENCE_WORDS = 4
# Words no sentence ends on: a stretched one of these is the aligner's mistake, not a pause.
NEVER_LAST = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "and",
        "or",
        "but",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "as",
        "is",
        "are",
        "was",
        "were",
        "that",
    ]
)


def sentences_of(words: Sequence[Word]) -> list[Sentence]:
    """Sentences from timed words: closed by their punctuation, by a long pause, or by a word
    stretched over one (the aligner gives a pause it did not cut to the word before it: a word
    that lasts over a second and three times the usual is one, when the sentence has already
    said something)."""
    found: list[Sentence] = []
    current: list[Word] = []
    durations = sorted(w.end - w.start for w in words)
    usual = durations[len(durations) // 2] if durations else 0.0
    for i, word in enumerate(words):
        current.append(word)
        following = words[i + 1] if i + 1 < len(words) else None
        pause = following is not None and following.start - word.end >= PAUSE_ENDS_SENTENCE_S
        lasted = word.end - word.start
        stretched = (
            lasted >= max(1.0, 3 * usual)
            and len(current) >= MIN_SENTENCE_WORDS
            and word.text.lower() not in NEVER_LAST
        )
        if word.text.endswith(SENTENCE_END) or pause or stretched or following is None:
            text = " ".join(w.text for w in current)
            found.append(Sentence(current[0].start, current[-1].end, text))
            current = []
    return found
