"""Fitting the dub to the talk: each segment's speech starts where the source segment starts,
at the source's pace where it can. Speech that runs long first borrows the silence after its
segment (up to the next one), then is sped up (ffmpeg `atempo`, pitch kept) up to 1.5x; speech
that runs short is slowed towards the segment's length, never below 0.75x. What still does not
fit is cut, with a short fade, where the next segment starts. The original sound stays under
the dub, ducked while it speaks (`background: "duck"`), or goes (`"none"`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 48_000
FASTEST = 1.5
SLOWEST = 0.75
GAP_S = 0.1  # kept between one segment's speech and the next
DUCK_GAIN = 0.2  # the original under the dub: -14 dB
RAMP_S = 0.15  # how fast the original ducks and comes back
FADE_S = 0.03  # on speech cut at the next segment


@dataclass(frozen=True)
class Fit:
    start: float
    end: float
    tempo: float
    cut: bool  # ended early: it did not fit even at FASTEST


def fit(start: float, end: float, limit: float, spoken_s: float) -> Fit:
    """Where speech lasting `spoken_s` goes, for a source segment [start, end) followed by
    silence until `limit` (the next segment, or the end of the video)."""
    target = max(end - start, 0.05)
    room = max(limit - GAP_S - start, target)
    if spoken_s <= target:
        tempo = max(spoken_s / target, SLOWEST)
    elif spoken_s <= room:
        tempo = 1.0  # the silence after is enough
    else:
        tempo = min(spoken_s / room, FASTEST)
    tempo = 1.0 if abs(tempo - 1.0) < 0.02 else round(tempo, 3)
    length = spoken_s / tempo
    stop = min(start + length, max(limit, start))
    return Fit(start, stop, tempo, cut=start + length > limit + 1e-3)


def read_f32(path: Path, channels: int) -> np.ndarray:
    data: np.ndarray = np.fromfile(path, dtype="<f4")
    shaped: np.ndarray = data[: len(data) - len(data) % channels].reshape(-1, channels)
    return shaped


def ducking_gain(times: np.ndarray, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    """The original's gain at `times`: DUCK_GAIN under the dub's speech, 1 elsewhere, with
    linear ramps; spans closer than two ramps stay ducked between them."""
    merged: list[list[float]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] < 2 * RAMP_S:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    xs: list[float] = []
    ys: list[float] = []
    for start, end in merged:
        xs += [start - RAMP_S, start, end, end + RAMP_S]
        ys += [1.0, DUCK_GAIN, DUCK_GAIN, 1.0]
    gain: np.ndarray = np.interp(times, xs or [0.0], ys or [1.0], left=1.0, right=1.0)
    return gain.astype(np.float32)


def mix(
    out: Path,
    duration_s: float,
    speech: Sequence[tuple[Fit, np.ndarray]],
    original: Path | None,
    chunk_s: float = 60.0,
) -> None:
    """Write the dubbed track (48 kHz stereo float32, raw) to `out`: each fitted speech (mono,
    already at its tempo) at its place, over the original (raw stereo float32) ducked, or over
    silence. Streams through memory maps: hours of audio take little RAM."""
    total = max(1, round(duration_s * SAMPLE_RATE))
    track = np.memmap(out, dtype="<f4", mode="w+", shape=(total, 2))
    source = np.memmap(original, dtype="<f4", mode="r") if original is not None else None
    spans = [(f.start, f.end) for f, _ in speech]
    step = round(chunk_s * SAMPLE_RATE)
    for first in range(0, total, step):
        last = min(first + step, total)
        if source is None:
            continue  # a new memory map is zeros
        piece = np.zeros((last - first, 2), dtype="<f4")
        got = source[first * 2 : last * 2]
        piece.reshape(-1)[: len(got)] = got
        times = np.arange(first, last, dtype=np.float64) / SAMPLE_RATE
        track[first:last] = piece * ducking_gain(times, spans)[:, None]
    for placed, samples in speech:
        first = round(placed.start * SAMPLE_RATE)
        wanted = max(0, min(round((placed.end - placed.start) * SAMPLE_RATE), total - first))
        voice = samples[:wanted].astype("<f4")
        if placed.cut and len(voice):
            fade = min(len(voice), round(FADE_S * SAMPLE_RATE))
            voice[-fade:] *= np.linspace(1.0, 0.0, fade, dtype="<f4")
        track[first : first + len(voice)] += voice[:, None]
    for first in range(0, total, step):
        np.clip(track[first : first + step], -1.0, 1.0, out=track[first : first + step])
    track.flush()
    del track
