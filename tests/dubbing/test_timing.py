"""Fitting speech to its segment and mixing it over the ducked original (pure functions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from moviie.dubbing.timing import (
    DUCK_GAIN,
    FASTEST,
    SAMPLE_RATE,
    SLOWEST,
    ducking_gain,
    fit,
    mix,
    read_f32,
)


def test_speech_that_fits_keeps_its_pace_or_slows_a_little() -> None:
    same = fit(10.0, 13.0, 15.0, 3.0)
    assert (same.start, same.end, same.tempo, same.cut) == (10.0, 13.0, 1.0, False)
    short = fit(10.0, 13.0, 15.0, 2.7)  # slowed to fill the sentence
    assert short.tempo == 0.9
    assert short.end == pytest.approx(13.0)
    very_short = fit(10.0, 14.0, 15.0, 1.0)  # never below 0.75x
    assert very_short.tempo == SLOWEST
    assert very_short.end == pytest.approx(10.0 + 1.0 / SLOWEST)


def test_long_speech_borrows_the_silence_after_before_speeding_up() -> None:
    borrowed = fit(10.0, 12.0, 15.0, 4.0)  # 2 s sentence, 3 s of room before the next
    assert (borrowed.tempo, borrowed.cut) == (1.0, False)
    assert borrowed.end == pytest.approx(14.0)
    faster = fit(10.0, 12.0, 13.0, 3.6)  # room 2.9 s: 1.241x
    assert faster.tempo == pytest.approx(3.6 / 2.9, abs=1e-3)
    assert faster.end == pytest.approx(12.9, abs=1e-3)
    assert not faster.cut


def test_speech_that_does_not_fit_at_the_fastest_is_cut_at_the_next_segment() -> None:
    cut = fit(10.0, 11.0, 11.5, 4.0)
    assert cut.tempo == FASTEST
    assert cut.cut
    assert cut.end == 11.5
    assert cut.start == 10.0


def test_the_original_is_ducked_under_the_dub_with_ramps() -> None:
    times = np.array([0.0, 0.9, 1.0, 1.5, 2.0, 2.075, 2.2, 5.0])
    gain = ducking_gain(times, [(1.0, 2.0)])
    assert gain[0] == 1.0
    assert gain[2] == pytest.approx(DUCK_GAIN)
    assert gain[3] == pytest.approx(DUCK_GAIN)
    assert DUCK_GAIN < gain[5] < 1.0  # coming back up
    assert gain[6] == 1.0
    assert gain[-1] == 1.0
    # Close spans stay ducked in between, no pumping.
    assert ducking_gain(np.array([2.1]), [(1.0, 2.0), (2.2, 3.0)])[0] == pytest.approx(DUCK_GAIN)


def test_mix_places_speech_at_its_start_over_the_ducked_original(tmp_path: Path) -> None:
    seconds = 3.0
    original = np.full((int(seconds * SAMPLE_RATE), 2), 0.5, dtype="<f4")
    original_path = tmp_path / "original.raw"
    original.tofile(original_path)
    speech = np.full(SAMPLE_RATE // 2, 0.25, dtype="<f4")  # 0.5 s
    placed = fit(1.0, 1.5, 3.0, 0.5)
    out = tmp_path / "mix.raw"
    mix(out, seconds, [(placed, speech)], original_path, chunk_s=0.7)  # chunks cut spans
    track = read_f32(out, 2)
    assert track.shape == (int(seconds * SAMPLE_RATE), 2)
    at = lambda s: track[int(s * SAMPLE_RATE)]  # noqa: E731
    assert at(0.2) == pytest.approx([0.5, 0.5])  # untouched before
    assert at(1.25) == pytest.approx([0.5 * DUCK_GAIN + 0.25] * 2)  # ducked, plus the dub
    assert at(2.5) == pytest.approx([0.5, 0.5])  # back after the ramp
    silent = tmp_path / "alone.raw"
    mix(silent, seconds, [(placed, speech)], None)
    alone = read_f32(silent, 2)
    assert float(np.abs(alone[:SAMPLE_RATE]).max()) == 0.0
    assert alone[int(1.25 * SAMPLE_RATE)] == pytest.approx([0.25, 0.25])
