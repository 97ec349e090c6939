"""The reels job on a generated talk, next to a bare ffmpeg encode of the same clips.

    .venv/bin/python bench/reels.py [--minutes 5] [--count 3] [--database sqlite|postgresql]
                                    [--repeat 1] [--split-render]

It generates, into a temp dir, a `--minutes` long talk: espeak-ng sayings of varied sentences on
one theme (three speeds, 0.3-1.0 s pauses, a longer one every few sentences) over scikit-image's
public-domain `astronaut` photo, 360 px square, swinging left and right across a 1280x720 frame
(a 36 s period, so the face crosses the frame in every reel), H.264 + AAC, as tests/reels/talk.py
makes its talk. Then, in this process and on the same machine:

- moviie: `create_app(settings, worker_queues=QUEUES)` inside its lifespan (API + workers, as
  `moviie serve`; SQLite in the temp data dir, or a fresh PostgreSQL database), queue polling
  0.1 s. One account (credits granted if the trial's are short), the talk uploaded through an
  `httpx.ASGITransport` client and waited for until ready. A subtitles job (`{"language":
  "en"}`) runs first, untimed beyond being printed: the reels job finds its transcript and does
  not transcribe again. The reels job (`{"count": --count}`, defaults otherwise: 15-60 s, 9:16,
  captions) is timed from the start of `POST /v1/videos/{id}/reels` until `GET /v1/jobs/{id}`,
  polled every 0.1 s, shows `succeeded`. Its parts come from the job engine's own step records
  (`operation_outputs` of the job's workflow, child workflows included):
  `find_transcript`, `select_moments` (selection: audio, scene cuts, YAKE, e5, scoring),
  `render_reel` (per reel: frame sampling, face tracking, the ffmpeg render, storing the reel),
  the `process_video` child workflows (each reel processed as an upload: HLS, poster, MP4) and
  what is left (job begin/finish, queue wait, polling).
- outside the job, on the moments the job chose (its result's `start_s` / `end_s`), the same
  source file and the transcript the job used: `render_reel`'s pieces one by one, each timed:
  frame sampling (`render.frames_command`, read into memory), face tracking (`framing.follow`
  with the detector it picks: BlazeFace when installed, else the Haar cascade; the job streams
  the frames through it as ffmpeg decodes, here the two run apart), the moves and captions
  files, and the render (`render.render_command` with the moves and the captions,
  exactly as the job builds it); and the bare encode: `render.render_command` without moves,
  captions or fonts, the crop fixed at the centre (same range, same crop size, same 1080x1920
  scale, libx264 veryfast crf 20, AAC). Which encode goes first rotates from moment to moment;
  with `--repeat N` each runs N times and the fastest counts (a noisy machine). With
  `--split-render`, the render is also timed with only the moves and with only the captions,
  to see which of the two costs what over the bare encode.

Model loads (e5, YAKE, the face detector) take well under a second and count in the job. It prints
the source duration, the job's total and its multiple of the source duration, each part, the
pieces measured outside the job, the bare encode total, and the ratio render / bare encode,
whose target is <= 1.3 (with render_reel / bare encode beside it, for information).

A measurement, not a test: it exits 0 whatever the figures. It exits 1 when the setup fails, an
ffmpeg run fails or a job fails, and 130 on Ctrl-C; it always removes its temp dir and drops its
PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ai_jobs import (
    JobRun,
    Speech,
    in_process_moviie,
    job_record,
    moviie_settings,
    print_source,
    speech_wav,
)
from common import BenchFailed, bench_parser, ffmpeg_path, run_benchmark, run_ffmpeg

TARGET = 1.3  # render (moves + captions) / bare encode of the same clips, at most
ASPECT = "9:16"  # the request's default
WIDTH, HEIGHT, FPS = 1280, 720, 25
FACE_SIZE = 360  # the photo's side in the frame
SWING_S = 36.0  # the photo swings across the frame and back in this time
SPEEDS = (140, 160, 180)  # espeak-ng words per minute
SENTENCES = (
    "Here's the key idea of this talk: small habits beat big plans.",
    "Most people set goals in January and forget them by March.",
    "The problem is not willpower, it is the size of the first step.",
    "Imagine you want to read twenty books this year.",
    "Reading ten pages every evening gets you there without any heroics.",
    "You need a cue, a routine and a reward for a habit to stick.",
    "The cue can be as simple as putting the book on your pillow.",
    "Why does this work so well?",
    "Because the brain loves doing what it did yesterday.",
    "Never miss twice, that is the only rule worth keeping.",
    "One bad day is an accident, two bad days are the start of a new habit.",
    "Track your streak on a paper calendar by the door.",
    "What if you could learn a language in fifteen minutes a day?",
    "After one year that adds up to more than ninety hours of practice.",
    "Stop waiting for the perfect moment to begin.",
    "The best time to start was yesterday, the second best time is today.",
    "Small wins build the confidence that big wins need.",
    "This is why teams that ship every week outpace teams that plan for months.",
    "Write down one thing you will do tomorrow morning before coffee.",
    "Make it so easy that saying no would feel silly.",
    "Then make it a little harder every two weeks.",
    "Remember that progress is rarely a straight line.",
    "Some weeks you will move fast, other weeks you will barely move at all.",
    "Keep showing up and the results will follow.",
)


# --------------------------------------------------------------------------------------------
# The talk


def paragraph_pauses(rng: random.Random) -> Callable[[], float]:
    """Pauses of 0.3-1.0 s between sentences, 1.5-2.5 s every 3-5 sentences (a paragraph)."""
    left = rng.randint(3, 5)

    def pause() -> float:
        nonlocal left
        left -= 1
        if left:
            return rng.uniform(0.3, 1.0)
        seconds = rng.uniform(1.5, 2.5)
        left = rng.randint(3, 5)
        return seconds

    return pause


def talk_video(ffmpeg: str, directory: Path, seconds: float, seed: int) -> tuple[Path, Speech]:
    """The speech over the astronaut photo swinging across a 1280x720 frame, as an MP4;
    (path, what was said)."""
    from skimage import data
    from skimage.io import imsave

    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    speech = speech_wav(directory, SENTENCES, SPEEDS, seconds, rng, paragraph_pauses(rng))
    photo = directory / "astronaut.png"
    imsave(photo, np.asarray(data.astronaut()))
    swing = f"({WIDTH}-{FACE_SIZE})/2*(1+sin(2*PI*t/{SWING_S:g}))"
    bob = f"({HEIGHT}-{FACE_SIZE})/2+60*sin(2*PI*t/11)"
    out = directory / "talk.mp4"
    cmd = [
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
        "-f", "lavfi", "-i", f"color=c=0x303840:s={WIDTH}x{HEIGHT}:r={FPS}:d={seconds:.3f}",
        "-loop", "1", "-i", str(photo), "-i", str(speech.wav),
        "-filter_complex",
        f"[1:v]scale={FACE_SIZE}:{FACE_SIZE}[p];[0:v][p]overlay=x='{swing}':y='{bob}':shortest=1[v]",
        "-map", "[v]", "-map", "2:a",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-t", f"{seconds:.3f}", "-movflags", "+faststart", str(out),
    ]  # fmt: skip
    run_ffmpeg(cmd, "make the talk video")
    return out, speech


# --------------------------------------------------------------------------------------------
# Outside the job: render_reel's pieces, and the bare encode


@dataclass
class Pieces:
    sampling: float = 0.0  # ffmpeg: RGB frames at framing.SAMPLE_FPS, DETECT_WIDTH wide
    tracking: float = 0.0  # framing.follow on them
    files: float = 0.0  # crop path, sendcmd script, captions document, font dir
    render: float = 0.0  # render_command with the moves and the captions
    bare: float = 0.0  # render_command, centre crop, no moves, no captions
    moves_only: float = 0.0  # with --split-render: the moves, no captions
    captions_only: float = 0.0  # with --split-render: the captions, centre crop
    render_mb: float = 0.0  # what each encode wrote (more picture to encode: a bigger file)
    bare_mb: float = 0.0
    moves_only_mb: float = 0.0
    captions_only_mb: float = 0.0
    frames: int = 0
    moves: int = 0
    clip_s: float = 0.0

    def add(self, other: Pieces) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def outside_job(
    ffmpeg: str,
    source: Path,
    video: dict[str, Any],
    moment: dict[str, Any],
    words: list[dict[str, Any]],
    work: Path,
    rotation: int,
    repeat: int,
    split: bool,
) -> Pieces:
    """render_reel's work on one moment, as the job does it, each piece timed; and the bare
    encode of the same range to the same size (with `split`, also the render with only the
    moves and with only the captions). Each encode runs `repeat` times; the fastest counts."""
    from moviie.reels import captions, framing, render
    from moviie.subtitles.cues import Word

    work.mkdir(parents=True)
    width, height = int(video["width"]), int(video["height"])
    has_audio = True  # the talk has sound (the job refuses a video without)
    start, end = float(moment["start_s"]), float(moment["end_s"])
    crop_w, crop_h = render.crop_size(width, height, ASPECT)
    size = render.ASPECTS[ASPECT]
    y = (height - crop_h) // 2
    pieces = Pieces(clip_s=end - start)

    detect_h = render.even(framing.DETECT_WIDTH * height / width)
    started = time.perf_counter()
    done = subprocess.run(
        render.frames_command(ffmpeg, source, start, end, framing.DETECT_WIDTH, framing.SAMPLE_FPS),
        capture_output=True,
    )
    pieces.sampling = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchFailed(f"ffmpeg (sample frames) exited with {done.returncode}")
    raw = io.BytesIO(done.stdout)
    frames = list(framing.read_frames(raw, framing.DETECT_WIDTH, detect_h, framing.SAMPLE_FPS))
    pieces.frames = len(frames)

    started = time.perf_counter()
    samples = framing.follow(frames, width / framing.DETECT_WIDTH)
    pieces.tracking = time.perf_counter() - started

    started = time.perf_counter()
    path = framing.crop_path(samples, width, crop_w)
    script = framing.sendcmd_script(path)
    moves = work / "moves.txt"
    moves.write_text(script)
    inside = [
        Word(w["text"], float(w["start"]), float(w["end"]))
        for w in words
        if start <= float(w["start"]) < end
    ]
    subtitles = work / "captions.ass"
    subtitles.write_text(captions.ass_document(inside, start, *size))
    fonts = captions.font_dir(work)
    pieces.files = time.perf_counter() - started
    pieces.moves = script.count("\n") - 1 if path else 0

    full = render.render_command(
        ffmpeg, source, work / "reel.mp4", start_s=start, end_s=end,
        crop=(crop_w, crop_h, path[0][1] if path else 0, y), size=size,
        moves=moves if path else None, captions=subtitles, fonts=fonts, has_audio=has_audio,
    )  # fmt: skip
    bare = render.render_command(
        ffmpeg, source, work / "bare.mp4", start_s=start, end_s=end,
        crop=(crop_w, crop_h, (width - crop_w) // 2, y), size=size,
        moves=None, captions=None, fonts=None, has_audio=has_audio,
    )  # fmt: skip
    encodes = {"bare": bare, "render": full}
    if split:
        encodes["moves_only"] = render.render_command(
            ffmpeg, source, work / "moves.mp4", start_s=start, end_s=end,
            crop=(crop_w, crop_h, path[0][1] if path else 0, y), size=size,
            moves=moves if path else None, captions=None, fonts=None, has_audio=has_audio,
        )  # fmt: skip
        encodes["captions_only"] = render.render_command(
            ffmpeg, source, work / "captions.mp4", start_s=start, end_s=end,
            crop=(crop_w, crop_h, (width - crop_w) // 2, y), size=size,
            moves=None, captions=subtitles, fonts=fonts, has_audio=has_audio,
        )  # fmt: skip
    names = list(encodes)
    best = dict.fromkeys(names, float("inf"))
    for round_ in range(repeat):  # which encode goes first rotates with the moment and round
        first = (rotation + round_) % len(names)
        for name in names[first:] + names[:first]:
            best[name] = min(best[name], run_ffmpeg(encodes[name], name.replace("_", " ")))
    for name, seconds in best.items():
        setattr(pieces, name, seconds)
        setattr(pieces, f"{name}_mb", Path(encodes[name][-1]).stat().st_size / 1e6)
    return pieces


# --------------------------------------------------------------------------------------------
# Moviie, in process


@dataclass
class Outcome:
    video: dict[str, Any]
    subtitles: JobRun
    reels: JobRun
    pieces: list[Pieces]


async def in_process(settings: Any, ffmpeg: str, talk: Path, args: argparse.Namespace) -> Outcome:
    seconds = args.minutes * 60 + 1
    charges = [("subtitles", seconds), ("reels", seconds)]
    async with in_process_moviie(settings, charges, "reels bench") as moviie:
        video = await moviie.upload_ready(talk)

        path = f"/v1/videos/{video['id']}"
        subtitles = await moviie.timed_job(f"{path}/subtitles", {"language": "en"})
        words = subtitles.job["result"]["transcript"]["words"]
        print(
            f"subtitles job (so the reels job finds a transcript): {subtitles.seconds:.2f} s, "
            f"{len(words)} words",
            flush=True,
        )
        reels = await moviie.timed_job(f"{path}/reels", {"count": args.count})
        print(f"reels job: {reels.seconds:.2f} s", flush=True)

        pieces = []
        for index, reel in enumerate(reels.job["result"]["reels"]):
            work = talk.parent / f"outside-{index}"
            one = await asyncio.to_thread(
                outside_job,
                ffmpeg,
                talk,
                video,
                reel,
                words,
                work,
                index,
                args.repeat,
                args.split_render,
            )
            pieces.append(one)
            print(
                f"  moment {index + 1} ({reel['start_s']:.1f}-{reel['end_s']:.1f} s): "
                f"render {one.render:.2f} s, bare {one.bare:.2f} s",
                flush=True,
            )
    return Outcome(video, subtitles, reels, pieces)


# --------------------------------------------------------------------------------------------
# Orchestration


def line(label: str, seconds: float, source_s: float, extra: str = "") -> str:
    return f"{label:<44}{seconds:8.2f} s  {seconds / source_s:6.3f}x source{extra}"


def outside_rows(sums: Pieces) -> list[tuple[str, float, str]]:
    """(label, seconds, what follows the figures) of each piece timed outside the job."""
    from moviie.reels import framing

    per_frame_ms = sums.tracking / max(sums.frames, 1) * 1000
    tracking = f"face tracking (framing.follow, {framing.detector()}):"
    render = f"  {sums.render_mb:5.1f} MB out, {sums.moves} crop moves"
    rows = [
        ("frame sampling (ffmpeg, RGB 480 px, 5 fps):", sums.sampling, ""),
        (tracking, sums.tracking, f"  ({sums.frames} frames, {per_frame_ms:.1f} ms each)"),
        ("crop path, moves + captions files:", sums.files, ""),
        ("render (moves + captions):", sums.render, render),
        ("bare encode (centre crop, no captions):", sums.bare, f"  {sums.bare_mb:5.1f} MB out"),
    ]
    if sums.moves_only or sums.captions_only:
        for label, seconds, mb in (
            ("render, moves only:", sums.moves_only, sums.moves_only_mb),
            ("render, captions only (centre crop):", sums.captions_only, sums.captions_only_mb),
        ):
            rows.append((label, seconds, f"  {mb:5.1f} MB out, {seconds / sums.bare:.3f}x bare"))
    return rows


def report(outcome: Outcome, source_s: float, count: int, repeat: int) -> None:
    reels = outcome.reels
    result = reels.job["result"]["reels"]
    total = reels.seconds
    by_name: dict[str, list[float]] = {}
    for step in reels.steps:
        by_name.setdefault(step.name, []).append(step.seconds)
    known = ("find_transcript", "select_moments", "render_reel", "process_video")
    stepped = sum(step.seconds for step in reels.steps)

    def part(name: str) -> tuple[float, int]:
        return sum(by_name.get(name, [])), len(by_name.get(name, []))

    print()
    print(
        "order: subtitles job, reels job, then per moment the outside pieces and encodes "
        f"(which encode goes first rotates; best of {repeat})"
    )
    print(f"source duration:                            {source_s:8.2f} s")
    made = ", ".join(
        f"{r['start_s']:.1f}-{r['end_s']:.1f} s {r['width']}x{r['height']}" for r in result
    )
    print(f"reels made: {len(result)} of {count} asked ({made})")
    print(f"subtitles job before it (transcript reused): {outcome.subtitles.seconds:7.2f} s")
    print(line("reels job (POST -> succeeded):", total, source_s))
    print(f"  its own record: {job_record(reels.job)}")
    if reels.note:
        print(f"  {reels.note}")
    else:
        for name, label in (
            ("find_transcript", "find_transcript (no transcription)"),
            ("select_moments", "selection (select_moments)"),
            ("render_reel", "render_reel"),
            ("process_video", "process_video (HLS etc. of the reels)"),
        ):
            seconds, count = part(name)
            print(line(f"  {label}:", seconds, source_s, f"  {seconds / total:6.1%}  x{count}"))
        others = [s for s in reels.steps if s.name not in known]
        other = sum(s.seconds for s in others)
        names = ", ".join(sorted({s.name for s in others}))
        print(line("  other engine steps:", other, source_s, f"  {other / total:6.1%}  ({names})"))
        rest = total - stepped
        print(
            line("  outside any step:", rest, source_s, f"  {rest / total:6.1%}")
            + "  (queue wait, workflow bookkeeping, 0.1 s polling)"
        )

    sums = Pieces()
    for one in outcome.pieces:
        sums.add(one)
    clip_s = sums.clip_s
    render_reel_s, _ = part("render_reel")
    print()
    print(f"outside the job, the same {len(outcome.pieces)} moments ({clip_s:.1f} s of clips):")
    for label, seconds, extra in outside_rows(sums):
        print(line(f"  {label}", seconds, source_s, extra))
    if not reels.note and render_reel_s:
        measured = sums.sampling + sums.tracking + sums.files + sums.render
        print(
            line("  render_reel minus those (storage, rows):", render_reel_s - measured, source_s)
            + "  (estimate across runs: noise can make it negative)"
        )
    ratio = sums.render / sums.bare
    verdict = "ok" if ratio <= TARGET else "ABOVE TARGET"
    print()
    print(f"render / bare encode = {ratio:.3f}   {verdict} (<= {TARGET:.1f})")
    if sums.moves_only:  # the same reframed pixels, encoded bare: what the captions cost
        same = sums.render / sums.moves_only
        verdict = "ok" if same <= TARGET else "ABOVE TARGET"
        print(
            f"render / bare encode of the same reframed picture (moving crop, no captions) = "
            f"{same:.3f}   {verdict} (<= {TARGET:.1f})"
        )
    tracked = (sums.sampling + sums.tracking + sums.files + sums.render) / sums.bare
    print(f"(sampling + tracking + files + render) / bare encode = {tracked:.3f}   (information)")
    if not reels.note and render_reel_s:
        print(f"render_reel steps / bare encode = {render_reel_s / sums.bare:.3f}   (information)")
    print(f"reels job / source duration = {total / source_s:.3f}")


def run(args: argparse.Namespace, tmp: Path) -> int:
    ffmpeg = ffmpeg_path()
    started = time.perf_counter()
    talk, speech = talk_video(ffmpeg, tmp / "talk", args.minutes * 60.0, seed=1)
    said = f"{len(speech.said)} sentences / {speech.words} words spoken"
    print_source("talk video", args, talk, f"{said}, {WIDTH}x{HEIGHT} H.264 + AAC", started)

    with moviie_settings(args.database, tmp) as settings:
        outcome = asyncio.run(in_process(settings, ffmpeg, talk, args))
    if not outcome.pieces:
        raise BenchFailed("the reels job made no reels")
    report(outcome, float(outcome.video["duration_s"]), args.count, args.repeat)
    return 0


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--minutes", type=int, default=5, help="length of the talk video")
    parser.add_argument("--count", type=int, default=3, help="reels asked for (1-10)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each outside encode this often, keep the best"
    )
    parser.add_argument(
        "--split-render",
        action="store_true",
        help="also time the render with only the moves and with only the captions",
    )
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    if args.minutes < 1:
        parser.error("--minutes must be >= 1")
    if not 1 <= args.count <= 10:
        parser.error("--count must be 1-10")
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    return run_benchmark(
        "moviie-bench-reels-", lambda tmp, _procs: run(args, tmp), keep_tmp=args.keep_tmp
    )


if __name__ == "__main__":
    sys.exit(main())
