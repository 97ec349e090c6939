"""Questions a teacher could hand out, made offline from the transcript: the most salient
sentences spread over the whole talk, each asked about its key term; distractors are the talk's
other key terms nearest in meaning (never the answer, never in the same sentence); every
question says where the video teaches it and quotes the sentence."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from hashlib import sha256

import numpy as np

from moviie.subtitles.cues import Sentence, Word, sentences_of

TYPES = ("multiple_choice", "true_false", "fill_blank")
MIN_WORDS_IN_SENTENCE = 6
BLANK = "_____"

Keyphrases = Callable[[str, str, int], list[tuple[str, float]]]
Embed = Callable[[Sequence[str]], np.ndarray]


class TooLittleSpeech(ValueError):
    pass


@dataclass(frozen=True)
class Question:
    type: str
    prompt: str
    options: list[str]
    answer: str
    explanation: str
    start_s: float
    sentence: str
    term: str


@dataclass(frozen=True)
class _Candidate:
    index: int
    sentence: Sentence
    term: str
    salience: float
    start_s: float


def _find(term: str, text: str) -> re.Match[str] | None:
    return re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", text, re.IGNORECASE)


def _term_start(sentence: Sentence, words: Sequence[Word], term: str) -> float:
    """When the term is said: its first word's start within the sentence."""
    first = term.split()[0].lower()
    for word in words:
        if (
            sentence.start <= word.start <= sentence.end
            and word.text.lower().strip(".,!?;:\"'") == first
        ):
            return word.start
    return sentence.start


def make_quiz(
    words: Sequence[Word],
    language: str,
    count: int,
    types: Sequence[str],
    keyphrases: Keyphrases,
    embed: Embed,
) -> list[Question]:
    sentences = [s for s in sentences_of(words) if len(s.text.split()) >= MIN_WORDS_IN_SENTENCE]
    text = " ".join(s.text for s in sentences)
    terms = [(t, w) for t, w in keyphrases(text, language, 40) if len(t) > 2]
    candidates: list[_Candidate] = []
    for index, sentence in enumerate(sentences):
        found = [(w, t) for t, w in terms if _find(t, sentence.text)]
        if found:
            salience, term = max(found)
            start = _term_start(sentence, words, term)
            candidates.append(_Candidate(index, sentence, term, salience, start))
    if len(candidates) < count or len(terms) < 4:
        raise TooLittleSpeech(
            f"{len(candidates)} sentences carry a key term; {count} questions need as many."
        )
    chosen = _spread(candidates, count)
    vectors = embed([t for t, _ in terms])
    by_term = {t: vectors[i] for i, (t, _) in enumerate(terms)}
    return [
        _question(c, types[n % len(types)], n, _distractors(c, terms, by_term))
        for n, c in enumerate(chosen)
    ]


def _spread(candidates: list[_Candidate], count: int) -> list[_Candidate]:
    """The most salient, taken in turn from each part of the talk (so the quiz covers it all),
    in the order the video says them; one question per sentence."""
    parts = min(count, 5)
    last = candidates[-1].sentence.end or 1.0
    buckets: list[list[_Candidate]] = [[] for _ in range(parts)]
    for c in candidates:
        buckets[min(int(c.sentence.start / last * parts), parts - 1)].append(c)
    for bucket in buckets:
        bucket.sort(key=lambda c: -c.salience)
    chosen: list[_Candidate] = []
    while len(chosen) < count:
        for bucket in buckets:
            if bucket and len(chosen) < count:
                chosen.append(bucket.pop(0))
    return sorted(chosen, key=lambda c: c.start_s)


def _distractors(
    candidate: _Candidate, terms: Sequence[tuple[str, float]], vectors: dict[str, np.ndarray]
) -> list[str]:
    """Other key terms, nearest in meaning first: never the answer, never one that contains it
    or that it contains, never one said in the same sentence."""
    answer = candidate.term.lower()
    usable = [
        t
        for t, _ in terms
        if t.lower() != answer
        and answer not in t.lower()
        and t.lower() not in answer
        and not _find(t, candidate.sentence.text)
    ]
    target = vectors[candidate.term]
    usable.sort(key=lambda t: -float(vectors[t] @ target))
    picked: list[str] = []
    for t in usable:
        if all(t.lower() not in p.lower() and p.lower() not in t.lower() for p in picked):
            picked.append(t)
    return picked


def _blanked(sentence: str, term: str) -> str:
    match = _find(term, sentence)
    assert match is not None
    return sentence[: match.start()] + BLANK + sentence[match.end() :]


def _as_said(sentence: str, term: str) -> str:
    """The term as the sentence says it (its case)."""
    match = _find(term, sentence)
    return match.group(0) if match else term


def _question(c: _Candidate, kind: str, n: int, distractors: list[str]) -> Question:
    minutes, seconds = divmod(int(c.start_s), 60)
    explanation = f'At {minutes}:{seconds:02d} the video says: "{c.sentence.text}"'
    answer = _as_said(c.sentence.text, c.term)
    if kind == "true_false":
        if n % 2 and distractors:  # every other one is false: the key term swapped
            match = _find(c.term, c.sentence.text)
            assert match is not None
            statement = (
                c.sentence.text[: match.start()] + distractors[0] + c.sentence.text[match.end() :]
            )
            return Question(
                kind,
                statement,
                ["True", "False"],
                "False",
                explanation,
                c.start_s,
                c.sentence.text,
                answer,
            )
        return Question(
            kind,
            c.sentence.text,
            ["True", "False"],
            "True",
            explanation,
            c.start_s,
            c.sentence.text,
            answer,
        )
    if kind == "multiple_choice":
        # A fixed order that does not give the answer away (not always first, not sorted).
        options = sorted([answer, *distractors[:3]], key=lambda o: sha256(o.encode()).hexdigest())
        return Question(
            kind,
            _blanked(c.sentence.text, c.term),
            options,
            answer,
            explanation,
            c.start_s,
            c.sentence.text,
            answer,
        )
    return Question(
        "fill_blank",
        _blanked(c.sentence.text, c.term),
        [],
        answer,
        explanation,
        c.start_s,
        c.sentence.text,
        answer,
    )
