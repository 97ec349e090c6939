"""Which ffmpeg binary to run: `MOVIIE_FFMPEG`, else the system's, else the one imageio-ffmpeg
ships (so a pip install is enough)."""

from __future__ import annotations

import shutil

import imageio_ffmpeg

from moviie.config import Settings


def ffmpeg_binary(settings: Settings) -> str:
    if settings.ffmpeg:
        return settings.ffmpeg
    return shutil.which("ffmpeg") or str(imageio_ffmpeg.get_ffmpeg_exe())
