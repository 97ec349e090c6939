"""One ffmpeg run that decodes the source once and splits it to every rendition of the ladder:
H.264 + AAC, 2 s GOP-aligned fMP4 segments, HLS media playlists and a master playlist."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from moviie.media.ladder import AUDIO_GROUP, AUDIO_ONLY, AUDIO_ONLY_KBPS, Rendition
from moviie.programs import die_with_parent

SEGMENT_S = 2
MASTER = "master.m3u8"


class TranscodeFailed(Exception):
    def __init__(self, message: str, stderr_tail: str, exit_code: int) -> None:
        super().__init__(message)
        self.stderr_tail = stderr_tail
        self.exit_code = exit_code

    @property
    def corrupt_source(self) -> bool:
        return self.exit_code == DECODE_ERROR_EXIT


# ffmpeg exits with 69 when more than this share of the source's frames fail to decode: a file
# with garbage in the middle fails as `corrupt_media` rather than publishing a glitched video,
# while a few damaged packets (common in phone and capture files) are concealed and forgiven.
MAX_DECODE_ERROR_RATE = 0.05
DECODE_ERROR_EXIT = 69
MAX_FRAME_RATE = 60.0


def output_frame_rate(frame_rate: float | None) -> float:
    """Constant output rate: the source's average (variable-rate sources included), at most 60."""
    return round(min(frame_rate or 25.0, MAX_FRAME_RATE), 3)


def hls_command(
    ffmpeg: str,
    source: Path,
    out_dir: Path,
    renditions: list[Rendition],
    *,
    has_audio: bool,
    frame_rate: float | None,
    pictures: Pictures | None = None,
) -> list[str]:
    """The ladder in one run; with no renditions (a source without picture), one AAC rendition.
    The sound is a rendition of its own (`audio/`, group `audio`), not muxed into each video
    variant: players then switch to a dub's audio rendition (the same group) without resetting
    their media source, and each variant's segments hold no second copy of the sound.
    With `pictures`, the same decode also feeds the poster and the storyboard sprite (each a
    further output of the run), so the source is read and decoded exactly once."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-i", str(source)]
    cmd += ["-max_error_rate", str(MAX_DECODE_ERROR_RATE)]
    if not renditions:
        cmd += ["-map", "0:a:0", "-c:a", "aac", "-b:a", f"{AUDIO_ONLY_KBPS}k", "-ac", "2"]
        stream_map = f"a:0,name:{AUDIO_ONLY}"
    else:
        cmd += _video_outputs(renditions, frame_rate=frame_rate, pictures=pictures)
        group = f",agroup:{AUDIO_GROUP}" if has_audio else ""
        stream_map = " ".join(f"v:{i}{group},name:{r.name}" for i, r in enumerate(renditions))
        if has_audio:
            cmd += ["-map", "0:a:0", "-c:a", "aac", "-b:a", f"{AUDIO_ONLY_KBPS}k", "-ac", "2"]
            stream_map += f" a:0{group},name:{AUDIO_ONLY},default:yes"
    cmd += [
        "-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_playlist_type", "vod",
        "-hls_segment_type", "fmp4", "-hls_flags", "independent_segments",
        "-hls_fmp4_init_filename", "init.mp4",
        "-hls_segment_filename", str(out_dir / "%v" / "seg_%04d.m4s"),
        "-master_pl_name", MASTER, "-var_stream_map", stream_map,
        "-progress", "pipe:1", "-nostats", "-loglevel", "error",
        str(out_dir / "%v" / "index.m3u8"),
    ]  # fmt: skip
    if renditions and pictures is not None:
        cmd += ["-map", "[poster]", "-frames:v", "1", "-q:v", "3", "-update", "1"]
        cmd += [str(pictures.poster)]
        # One JPEG per thumbnail as it comes (a tile would only appear at the very end, and
        # ffmpeg reports no progress until every output has its first frame); tiled after.
        cmd += ["-map", "[storyboard]", "-q:v", "4", "-start_number", "0"]
        cmd += [str(pictures.thumbs_dir / THUMB_PATTERN)]
    return cmd


@dataclass(frozen=True)
class Pictures:
    """Where the poster and the storyboard sprite go, and how they are cut."""

    poster: Path
    poster_at_s: float
    poster_width: int
    storyboard: Path
    thumbs_dir: Path
    interval_s: float
    count: int
    rows: int
    thumb_height: int

    @classmethod
    def plan(
        cls, out_dir: Path, thumbs_dir: Path, duration_s: float, width: int, height: int
    ) -> Pictures:
        interval, count, rows, thumb_h = storyboard_plan(duration_s, width, height)
        return cls(
            poster=out_dir / "poster.jpg",
            poster_at_s=min(duration_s * 0.1, 10.0),
            poster_width=min(width, 1280),
            storyboard=out_dir / "storyboard.jpg",
            thumbs_dir=thumbs_dir,
            count=count,
            interval_s=interval,
            rows=rows,
            thumb_height=thumb_h,
        )

    def filters(self, poster_in: str, storyboard_in: str) -> list[str]:
        """A representative frame (ffmpeg's `thumbnail` picks the least unusual of 50) from
        `poster_at_s` on, not a black first frame; one thumbnail every `interval_s`, 10 to a row."""
        return [
            f"[{poster_in}]trim=start={self.poster_at_s:.3f},thumbnail=50,"
            f"scale={self.poster_width}:-2[poster]",
            f"[{storyboard_in}]fps=1/{self.interval_s:.3f},"
            f"scale={STORYBOARD_WIDTH}:{self.thumb_height}[storyboard]",
        ]

    def tile_command(self, ffmpeg: str) -> list[str]:
        """The thumbnails (at most 100 small JPEGs) into one sprite, 10 to a row."""
        return [
            ffmpeg, "-hide_banner", "-nostdin", "-y", "-framerate", "1", "-start_number", "0",
            "-i", str(self.thumbs_dir / THUMB_PATTERN), "-frames:v", "1",
            "-vf", f"select='lt(n,{self.count})',tile={STORYBOARD_COLUMNS}x{self.rows}",
            "-q:v", "4", "-loglevel", "error", str(self.storyboard),
        ]  # fmt: skip


def _video_outputs(
    renditions: list[Rendition], *, frame_rate: float | None, pictures: Pictures | None
) -> list[str]:
    """Decode once, split to one scaler and one x264 per rung. Every rung gets keyframes at the
    same instants (each 2 s of output time, the output made constant-rate first), so segments
    align across renditions and a player switches quality at any segment boundary."""
    n = len(renditions)
    rate = output_frame_rate(frame_rate)
    gop = max(1, round(rate * SEGMENT_S))
    branches = n + (2 if pictures is not None else 0)
    split = f"[0:v]split={branches}" + "".join(f"[s{i}]" for i in range(branches))
    graph = [split] + [f"[s{i}]scale={r.width}:{r.height}[v{i}]" for i, r in enumerate(renditions)]
    if pictures is not None:
        graph += pictures.filters(f"s{n}", f"s{n + 1}")
    cmd = ["-filter_complex", ";".join(graph)]
    for i, rendition in enumerate(renditions):
        cmd += ["-map", f"[v{i}]"]
        kbps = rendition.video_kbps
        cmd += [
            f"-c:v:{i}", "libx264", f"-b:v:{i}", f"{kbps}k",
            f"-maxrate:v:{i}", f"{int(kbps * 1.07)}k", f"-bufsize:v:{i}", f"{kbps * 2}k",
        ]  # fmt: skip
    cmd += [
        "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-fps_mode", "cfr", "-r", str(rate),
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
        "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_S})",
    ]  # fmt: skip
    return cmd


_OUT_TIME = re.compile(rb"^out_time_us=(\d+)")


async def run_ffmpeg(
    cmd: list[str],
    *,
    duration_s: float,
    on_progress: Callable[[float], Awaitable[None]] | None = None,
) -> None:
    """Run `cmd`, reporting 0..1 from ffmpeg's `-progress` lines; raise TranscodeFailed with the
    end of its error output."""
    process = await asyncio.create_subprocess_exec(
        *cmd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=die_with_parent,  # no encoder left behind a crashed worker
    )
    assert process.stdout is not None
    assert process.stderr is not None
    stderr_task = asyncio.create_task(process.stderr.read())
    try:
        async for line in process.stdout:
            match = _OUT_TIME.match(line)
            if match and on_progress and duration_s > 0:
                await on_progress(min(1.0, int(match.group(1)) / 1e6 / duration_s))
        code = await process.wait()
    except BaseException:
        process.kill()
        await process.wait()
        raise
    stderr = (await stderr_task).decode("utf-8", "replace")[-2000:]
    if code != 0:
        raise TranscodeFailed(f"ffmpeg exited with {code}", stderr, code)


def download_command(
    ffmpeg: str, top_playlist: Path, out: Path, audio_playlist: Path | None = None
) -> list[str]:
    """The MP4 download: the top rendition's segments (and the audio rendition's) remuxed, no
    second encode, moov first so it plays while downloading."""
    inputs = ["-i", str(top_playlist)]
    if audio_playlist is not None:
        inputs += ["-i", str(audio_playlist), "-map", "0:v:0", "-map", "1:a:0"]
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-y", *inputs,
        "-c", "copy", "-movflags", "+faststart", "-loglevel", "error", str(out),
    ]  # fmt: skip


STORYBOARD_COLUMNS = 10
THUMB_PATTERN = "thumb_%03d.jpg"
STORYBOARD_WIDTH = 160
STORYBOARD_MAX_TILES = 100


def storyboard_plan(duration_s: float, width: int, height: int) -> tuple[float, int, int, int]:
    """(seconds between thumbnails, how many, rows, thumbnail height): at most 100 tiles."""
    interval = max(1.0, duration_s / STORYBOARD_MAX_TILES)
    count = max(1, min(STORYBOARD_MAX_TILES, int(duration_s // interval) or 1))
    rows = -(-count // STORYBOARD_COLUMNS)
    thumb_h = max(2, round(STORYBOARD_WIDTH * height / width / 2) * 2)
    return interval, count, rows, thumb_h


def storyboard_vtt(
    sprite: str, duration_s: float, interval: float, count: int, thumb_h: int
) -> str:
    """The WebVTT track players read thumbnails from (`sprite#xywh=x,y,w,h` per time range)."""

    def stamp(seconds: float) -> str:
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{int(hours):02d}:{int(minutes):02d}:{secs:06.3f}"

    cues = ["WEBVTT", ""]
    for i in range(count):
        start, end = i * interval, min((i + 1) * interval, duration_s)
        x, y = (i % STORYBOARD_COLUMNS) * STORYBOARD_WIDTH, (i // STORYBOARD_COLUMNS) * thumb_h
        cues += [
            f"{stamp(start)} --> {stamp(end)}",
            f"{sprite}#xywh={x},{y},{STORYBOARD_WIDTH},{thumb_h}",
            "",
        ]
    return "\n".join(cues)
