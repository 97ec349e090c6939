"""Measuring a dub: where its speech starts, on the decoded audio itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from tests.media.clips import FFMPEG

RATE = 16_000


def decoded(path: Path) -> np.ndarray:
    raw = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(RATE),
         "-f", "f32le", "-"],
        check=True, capture_output=True, timeout=120,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype="<f4")


def onsets(samples: np.ndarray, *, quiet_s: float = 0.4, threshold: float = 0.02) -> list[float]:
    """Where sound starts after at least `quiet_s` of silence (20 ms frames, RMS)."""
    frame = RATE // 50
    count = len(samples) // frame
    rms = np.sqrt(np.mean(samples[: count * frame].reshape(count, frame) ** 2, axis=1))
    loud = rms > threshold
    found: list[float] = []
    quiet = int(quiet_s * 50)
    silent_run = quiet
    for index, is_loud in enumerate(loud):
        if is_loud and silent_run >= quiet:
            found.append(index / 50)
        silent_run = 0 if is_loud else silent_run + 1
    return found
