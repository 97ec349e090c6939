"""Test media generated with ffmpeg's lavfi sources, once per session: nothing is downloaded."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from moviie.config import Settings
from moviie.media.ffmpeg import ffmpeg_binary

FFMPEG = ffmpeg_binary(Settings())


def ffmpeg(*args: str) -> None:
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=120
    )


def video(
    path: Path,
    *,
    size: str = "640x360",
    seconds: float = 2,
    audio: bool = True,
    extra: tuple[str, ...] = (),
    codec: tuple[str, ...] = ("-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"),
) -> Path:
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}"]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    ffmpeg(*inputs, *codec, *(["-c:a", "aac"] if audio else []), *extra, "-shortest", str(path))
    return path


def broken_corpus(root: Path) -> dict[str, Path]:
    """Files that are not decodable videos, by name."""
    root.mkdir(parents=True, exist_ok=True)
    good = video(root / "good.mp4", seconds=3)
    data = good.read_bytes()
    files = {
        "empty": b"",
        "text": b"this is not a video, just some text\n" * 50,
        "truncated": data[: len(data) // 3],
        "garbage": os.urandom(200_000),
    }
    paths = {}
    for name, content in files.items():
        paths[name] = root / f"{name}.mp4"
        paths[name].write_bytes(content)
    image = root / "image.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240",
        "-frames:v",
        "1",
        "-f",
        "image2",
        "-c:v",
        "png",
        str(image),
    )
    paths["image"] = image
    return paths
