"""Where to crop each moment of a clip so the speaker stays in the vertical frame: faces found
on sampled frames (OpenCV's Haar cascade, shipped with opencv-python-headless), the main one
followed with a smoothed path (a dead zone against jitter, a short time constant against lag),
and the centre of motion when no face is seen."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_FPS = 5.0
DETECT_WIDTH = 480  # frames are analysed at this width (faster, and plenty for a face)
DEAD_ZONE = 0.06  # of the crop width: closer than this, the crop does not move
TIME_CONSTANT_S = 0.12  # the crop closes ~92% of a jump within 0.3 s
MAX_SPEED = 1.5  # crop widths per second


@dataclass(frozen=True)
class Sample:
    t: float  # seconds from the clip's start
    centre_x: float | None  # the main face's centre, in source pixels; None: none seen


@functools.cache
def _cascade() -> Any:
    import cv2

    cascades = Path(cv2.__file__).parent / "data"  # cv2.data.haarcascades, which mypy cannot see
    return cv2.CascadeClassifier(str(cascades / "haarcascade_frontalface_default.xml"))


def faces(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) in a grayscale frame."""
    height = gray.shape[0]
    found = _cascade().detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(height // 12, height // 12)
    )
    return [tuple(int(v) for v in box) for box in found]  # type: ignore[misc]


def follow(frames: Sequence[tuple[float, np.ndarray]], scale: float) -> list[Sample]:
    """The main face's centre on each frame (source pixels): the largest face at first, then
    the one nearest to where it was (a cut to another person is followed, a passer-by is not
    preferred over the speaker)."""
    samples: list[Sample] = []
    last: float | None = None
    previous: np.ndarray | None = None
    for t, gray in frames:
        boxes = faces(gray)
        centre: float | None = None
        if boxes:
            if last is None:
                x, _, w, _ = max(boxes, key=lambda b: b[2] * b[3])
            else:
                was = last / scale
                x, _, w, _ = min(boxes, key=lambda b: abs(b[0] + b[2] / 2 - was))
            centre = (x + w / 2) * scale
        elif previous is not None:
            centre = _motion_centre(previous, gray, scale)
        samples.append(Sample(t, centre))
        if boxes:
            last = centre
        previous = gray
    return samples


def _motion_centre(before: np.ndarray, after: np.ndarray, scale: float) -> float | None:
    """The horizontal centre of what changed between two frames (None when nothing did)."""
    moved = np.abs(after.astype(np.int16) - before.astype(np.int16)).sum(axis=0)
    total = float(moved.sum())
    if total < moved.size * 4:  # next to no change: no evidence
        return None
    columns = np.arange(moved.size)
    return float((columns * moved).sum() / total) * scale


def crop_path(
    samples: Sequence[Sample], source_width: int, crop_width: int
) -> list[tuple[float, int]]:
    """The crop's left edge over time: held where it is inside the dead zone, eased towards
    the face otherwise (exponential, bounded speed), clamped to the frame. No face at all:
    the centre."""
    limit = source_width - crop_width
    known = [s.centre_x for s in samples if s.centre_x is not None]
    position = (known[0] if known else source_width / 2) - crop_width / 2
    position = min(max(position, 0.0), limit)
    path: list[tuple[float, int]] = []
    target = position
    previous_t = samples[0].t if samples else 0.0
    for sample in samples:
        dt = max(sample.t - previous_t, 1e-3)
        previous_t = sample.t
        if sample.centre_x is not None:
            wanted = min(max(sample.centre_x - crop_width / 2, 0.0), limit)
            if abs(wanted - target) > DEAD_ZONE * crop_width:
                target = wanted
        step = (target - position) * (1 - np.exp(-dt / TIME_CONSTANT_S))
        bound = MAX_SPEED * crop_width * dt
        position += float(np.clip(step, -bound, bound))
        path.append((sample.t, round(position)))
    return path


def sendcmd_script(path: Sequence[tuple[float, int]], crop_filter: str = "crop") -> str:
    """ffmpeg `sendcmd` commands moving the crop (only when it moves)."""
    lines = []
    last: int | None = None
    for t, x in path:
        if x != last:
            lines.append(f"{t:.3f} {crop_filter} x {x};")
            last = x
    return "\n".join(lines) + "\n"
