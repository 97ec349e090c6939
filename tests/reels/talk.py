"""A talk made in the tests: a real face photo (scikit-image's public-domain `astronaut`)
moving across a 16:9 frame, over espeak-ng speech. Where the face is at any time is known."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from skimage import data
from skimage.io import imsave

from tests.media.clips import ffmpeg
from tests.subtitles.speech import Speech, speech_video

WIDTH, HEIGHT = 1280, 720
FACE_SIZE = 360  # the photo's side in the frame
# The astronaut photo's face centre, as a share of the photo (measured once on the photo).
FACE_IN_PHOTO = (0.44, 0.25)


@dataclass(frozen=True)
class Talk:
    path: Path
    speech: Speech
    seconds: float

    def face_x(self, t: float) -> float:
        """The face centre's x in the frame at `t` (the photo slides left to right)."""
        left = (WIDTH - FACE_SIZE) * min(max(t / self.seconds, 0.0), 1.0)
        return left + FACE_IN_PHOTO[0] * FACE_SIZE


def talk_video(directory: Path, sentences: tuple[str, ...]) -> Talk:
    directory.mkdir(parents=True, exist_ok=True)
    speech = speech_video(directory / "speech", sentences, picture=False)
    photo = directory / "astronaut.png"
    imsave(photo, np.asarray(data.astronaut()))
    seconds = float(
        __import__("av").open(str(speech.path)).duration / 1_000_000  # type: ignore[operator]
    )
    out = directory / "talk.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", f"color=c=0x303840:s={WIDTH}x{HEIGHT}:r=25:d={seconds:.3f}",
        "-loop", "1", "-i", str(photo), "-i", str(speech.path),
        "-filter_complex",
        f"[1:v]scale={FACE_SIZE}:{FACE_SIZE}[p];"
        f"[0:v][p]overlay=x='({WIDTH}-{FACE_SIZE})*t/{seconds:.3f}':y=({HEIGHT}-{FACE_SIZE})/2:shortest=1[v]",
        "-map", "[v]", "-map", "2:a", "-c:v", "libx264", "-pix_fmt", "yuv420p",
        "-preset", "ultrafast", "-c:a", "aac", "-t", f"{seconds:.3f}", str(out),
    )  # fmt: skip
    return Talk(out, speech, seconds)
