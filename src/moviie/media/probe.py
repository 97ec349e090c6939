"""What a source file is, read with PyAV: container, streams, duration, displayed size after
rotation, frame rate, audio. Anything that is not a decodable video is refused with a code."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error

MAX_DECODE_ATTEMPTS = 50  # packets tried before a video stream counts as undecodable
# Demuxers of still pictures (ffmpeg names single-image readers `<codec>_pipe`).
IMAGE_FORMATS = frozenset({"image2", "image2pipe", "webp_pipe", "png_pipe", "jpeg_pipe"})


class MediaRejected(Exception):
    """The file cannot become a video; `code` is the video's `error.code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class MediaInfo:
    container: str
    duration_s: float
    has_video: bool
    has_audio: bool
    width: int | None = None  # as displayed, after rotation
    height: int | None = None
    rotation: int = 0
    frame_rate: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    pixel_format: str | None = None


def probe(path: Path, *, max_duration_s: float) -> MediaInfo:
    """Inspect `path`; raises MediaRejected with `unsupported_media`, `no_video_stream`,
    `corrupt_media` or `duration_over_limit`."""
    if not path.exists() or path.stat().st_size == 0:
        raise MediaRejected("unsupported_media", "The file is empty.")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        if _looks_like_mp4(path):
            raise MediaRejected(
                "corrupt_media",
                "The MP4 file is incomplete or damaged (its index is missing): "
                "was the upload cut short?",
            ) from exc
        raise MediaRejected(
            "unsupported_media", "This is not a video file Moviie can read."
        ) from exc
    with container:
        if container.format.name in IMAGE_FORMATS or container.format.name.endswith("_pipe"):
            raise MediaRejected("unsupported_media", "This is a still image, not a video.")
        video = next(iter(container.streams.video), None)
        audio = next(iter(container.streams.audio), None)
        if video is None and audio is None:
            raise MediaRejected("no_video_stream", "The file has no video or audio stream.")
        stream = video if video is not None else audio
        assert stream is not None
        duration = _duration(container, stream)
        if duration <= 0:
            raise MediaRejected("corrupt_media", "The file reports no duration.")
        if duration > max_duration_s:
            raise MediaRejected(
                "duration_over_limit",
                f"The video lasts {duration:.0f} s; the limit is {max_duration_s:.0f} s.",
            )
        if video is None:
            return MediaInfo(
                container=container.format.name,
                duration_s=duration,
                has_video=False,
                has_audio=True,
                audio_codec=audio.codec_context.name if audio else None,
            )
        frame = _first_frame(container, video)
        rotation = int(getattr(frame, "rotation", 0) or 0) % 360
        width, height = frame.width, frame.height
        if rotation in (90, 270):
            width, height = height, width
        rate = video.average_rate or video.guessed_rate
        return MediaInfo(
            container=container.format.name,
            duration_s=duration,
            has_video=True,
            has_audio=audio is not None,
            width=width,
            height=height,
            rotation=rotation,
            frame_rate=float(rate) if rate else None,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio else None,
            pixel_format=frame.format.name,
        )


def _duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float:
    if container.duration:
        return float(container.duration / av.time_base)
    if stream.duration and stream.time_base:
        return float(stream.duration * Fraction(stream.time_base))
    return 0.0


def _first_frame(
    container: av.container.InputContainer, video: av.video.stream.VideoStream
) -> av.VideoFrame:
    """Decode until one frame comes out: a file whose video never decodes is corrupt."""
    try:
        for attempt, packet in enumerate(container.demux(video)):
            for frame in packet.decode():
                return frame
            if attempt >= MAX_DECODE_ATTEMPTS:
                break
    except av.error.FFmpegError as exc:
        raise MediaRejected("corrupt_media", "The video stream cannot be decoded.") from exc
    raise MediaRejected("corrupt_media", "The video stream yields no picture.")


def _looks_like_mp4(path: Path) -> bool:
    """An ISO media file (MP4, MOV, M4A...) starts with an `ftyp` box after its 4-byte size."""
    with path.open("rb") as file:
        return file.read(8)[4:8] == b"ftyp"
