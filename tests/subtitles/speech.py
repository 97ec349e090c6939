"""Speech made in the tests: espeak-ng says sentences the test holds, with known silences in
between, muxed under a test pattern with ffmpeg. Where each sentence starts is measured on the
generated audio itself (its first sample above the noise floor), so cue timings have a truth."""

from __future__ import annotations

import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.media.clips import ffmpeg

RATE = 16_000
GAP_S = 1.2

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Every morning we walk to the old market by the river.",
    "Please send the report before the end of the week.",
    "Music fills the quiet room when the sun goes down.",
)


@dataclass(frozen=True)
class Speech:
    path: Path
    text: str
    onsets: list[float]  # where each sentence's first sound is, in seconds


def _say(sentence: str, out: Path, voice: str) -> np.ndarray:
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "150", "-w", str(out), sentence], check=True, timeout=60
    )
    resampled = out.with_suffix(".16k.wav")
    ffmpeg("-i", str(out), "-ac", "1", "-ar", str(RATE), "-sample_fmt", "s16", str(resampled))
    with wave.open(str(resampled)) as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)


def speech_video(
    directory: Path,
    sentences: tuple[str, ...] = SENTENCES,
    *,
    picture: bool = True,
    voice: str = "en-us",
) -> Speech:
    """The sentences, GAP_S of silence between them (and before the first), as an MP4."""
    directory.mkdir(parents=True, exist_ok=True)
    gap = np.zeros(int(GAP_S * RATE), dtype=np.int16)
    parts: list[np.ndarray] = [gap]
    onsets: list[float] = []
    position = len(gap)
    for n, sentence in enumerate(sentences):
        samples = _say(sentence, directory / f"s{n}.wav", voice)
        loud = np.nonzero(np.abs(samples.astype(np.int32)) > 500)[0]
        onsets.append((position + int(loud[0])) / RATE)
        parts += [samples, gap]
        position += len(samples) + len(gap)
    audio = np.concatenate(parts)
    wav_path = directory / "speech.wav"
    with wave.open(str(wav_path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(audio.tobytes())
    seconds = len(audio) / RATE
    out = directory / "speech.mp4"
    video_in = (
        ["-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds:.3f}"]
        if picture
        else []
    )
    video_codec = (
        ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"] if picture else []
    )
    ffmpeg(*video_in, "-i", str(wav_path), *video_codec, "-c:a", "aac", "-shortest", str(out))
    return Speech(out, " ".join(sentences), onsets)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over words, divided by the reference's length."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[len(hyp)] / max(len(ref), 1)
