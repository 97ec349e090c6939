"""Which ffmpeg binary to run: `MOVIIE_FFMPEG`, else the system's, else the one imageio-ffmpeg
ships (so a pip install is enough)."""

from __future__ import annotations

import shutil
from pathlib import Path

import imageio_ffmpeg

from moviie.config import Settings


def ffmpeg_binary(settings: Settings) -> str:
    if settings.ffmpeg:
        return settings.ffmpeg
    return shutil.which("ffmpeg") or str(imageio_ffmpeg.get_ffmpeg_exe())


def raw_audio_command(
    ffmpeg: str, source: Path, out: Path, *, channels: int, rate: int, sample: str = "s16le"
) -> list[str]:
    """The first audio stream as raw PCM (`s16le` or `f32le`) at `rate` Hz, with `-progress`
    lines on stdout for run_ffmpeg."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-i", str(source), "-map", "0:a:0", "-vn",
        "-ac", str(channels), "-ar", str(rate), "-f", sample, "-acodec", f"pcm_{sample}",
        "-progress", "pipe:1", "-loglevel", "error", str(out),
    ]  # fmt: skip
