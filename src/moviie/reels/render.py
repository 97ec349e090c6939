"""Rendering a reel with one ffmpeg run: the clip's range, cropped along the speaker's path
(`sendcmd` moves the crop), scaled to the reel's size, captions burned in by libass."""

from __future__ import annotations

from pathlib import Path

ASPECTS: dict[str, tuple[int, int]] = {
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
    "4:5": (1080, 1350),
}


def even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def crop_size(source_w: int, source_h: int, aspect: str) -> tuple[int, int]:
    """The largest crop of that aspect inside the source frame."""
    out_w, out_h = ASPECTS[aspect]
    ratio = out_w / out_h
    if source_w / source_h > ratio:
        return even(source_h * ratio), even(source_h)
    return even(source_w), even(source_w / ratio)


def filter_path(path: Path) -> str:
    """A path as an ffmpeg filter option value (quoted, its quotes and colons escaped)."""
    text = str(path).replace("\\", "\\\\").replace("'", "'\\''").replace(":", "\\:")
    return f"'{text}'"


def render_command(
    ffmpeg: str,
    source: Path,
    out: Path,
    *,
    start_s: float,
    end_s: float,
    crop: tuple[int, int, int, int],
    size: tuple[int, int],
    moves: Path | None,
    captions: Path | None,
    fonts: Path | None,
    has_audio: bool,
) -> list[str]:
    """`crop` is (w, h, x, y) at the start; `moves` a sendcmd script for later x positions."""
    w, h, x, y = crop
    steps = []
    if moves is not None:
        steps.append(f"sendcmd=f={filter_path(moves)}")
    steps += [f"crop={w}:{h}:{x}:{y}", f"scale={size[0]}:{size[1]}:flags=lanczos", "setsar=1"]
    if captions is not None:
        subtitle = f"ass={filter_path(captions)}"
        if fonts is not None:
            subtitle += f":fontsdir={filter_path(fonts)}"
        steps.append(subtitle)
    audio = ["-map", "0:a:0", "-c:a", "aac", "-b:a", "128k"] if has_audio else []
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-y",
        "-ss", f"{start_s:.3f}", "-to", f"{end_s:.3f}", "-i", str(source),
        "-filter_complex", f"[0:v]{','.join(steps)}[v]", "-map", "[v]", *audio,
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-movflags", "+faststart", "-progress", "pipe:1", "-loglevel", "error", str(out),
    ]  # fmt: skip


def frames_command(
    ffmpeg: str, source: Path, start_s: float, end_s: float, width: int, fps: float
) -> list[str]:
    """RGB frames of the range at `fps`, `width` wide, as raw bytes on stdout."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-ss", f"{start_s:.3f}", "-to", f"{end_s:.3f}",
        "-i", str(source), "-vf", f"fps={fps},scale={width}:-2,format=rgb24",
        "-f", "rawvideo", "-loglevel", "error", "-",
    ]  # fmt: skip
