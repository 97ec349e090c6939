"""A key frame per chapter: of a few frames spread over the chapter, the sharpest one that is
neither black nor a blur (the variance of its Laplacian measures sharpness)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

CANDIDATES = 6
MIN_BRIGHTNESS = 20  # mean of 0..255: darker is a black frame
MIN_SHARPNESS = 15.0  # Laplacian variance: lower is a blur or a flat colour
WIDTH = 960


def sharpness(rgb: np.ndarray) -> float:
    import cv2

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def grab(ffmpeg: str, source: Path, at: float, width: int, height: int) -> np.ndarray | None:
    raw = subprocess.run(  # noqa: S603 (our ffmpeg, our file, numbers)
        [ffmpeg, "-v", "error", "-ss", f"{at:.3f}", "-i", str(source), "-frames:v", "1",
         "-vf", f"scale={width}:{height}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    if len(raw) != width * height * 3:
        return None
    return np.frombuffer(raw, np.uint8).reshape(height, width, 3)


def key_frame(
    ffmpeg: str, source: Path, start_s: float, end_s: float, width: int, height: int
) -> np.ndarray | None:
    """The best frame of [start_s, end_s), or None when every candidate is black or blurred."""
    span = max(end_s - start_s, 0.1)
    best: tuple[float, np.ndarray] | None = None
    for k in range(CANDIDATES):
        frame = grab(ffmpeg, source, start_s + span * (k + 0.5) / CANDIDATES, width, height)
        if frame is None or frame.mean() < MIN_BRIGHTNESS:
            continue
        score = sharpness(frame)
        if score >= MIN_SHARPNESS and (best is None or score > best[0]):
            best = (score, frame)
    return best[1] if best else None


def save_jpeg(frame: np.ndarray, path: Path) -> None:
    import cv2

    cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
