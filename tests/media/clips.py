"""Test media generated with ffmpeg's lavfi sources, once per session: nothing is downloaded."""

from __future__ import annotations

import random
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
        "garbage": random.Random(11).randbytes(200_000),
    }
    paths = {"no_moov": without_moov(good, root / "no_moov.mp4")}
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


def damaged_in_the_middle(source: Path, path: Path, share: float = 0.2) -> Path:
    """`source` with a run of random bytes over `share` of its middle: it probes, but a fifth of
    its frames cannot be decoded."""
    data = bytearray(source.read_bytes())
    start = int(len(data) * (0.5 - share / 2))
    end = start + int(len(data) * share)
    data[start:end] = random.Random(7).randbytes(end - start)
    path.write_bytes(bytes(data))
    return path


def without_moov(source: Path, path: Path) -> Path:
    """`source` (moov at the end, as ffmpeg writes by default) cut just before its index."""
    data = source.read_bytes()
    index = data.rfind(b"moov")
    assert index > 4
    path.write_bytes(data[: index - 4])
    return path
