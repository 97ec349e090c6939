"""Where the picture cuts: ffmpeg's scene score over a small decode of the video."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

SCENE_THRESHOLD = 0.3
_PTS_TIME = re.compile(rb"pts_time:([0-9.]+)")


async def scene_cuts(ffmpeg: str, source: Path) -> list[float]:
    """Times of the cuts (scene score over the threshold), on a small decode of the picture."""
    process = await asyncio.create_subprocess_exec(
        ffmpeg, "-hide_banner", "-nostdin", "-i", str(source), "-an",
        "-vf", f"scale=160:-2,select='gt(scene,{SCENE_THRESHOLD})',showinfo",
        "-f", "null", "-",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await process.communicate()
    return [float(m.group(1)) for m in _PTS_TIME.finditer(stderr)]
