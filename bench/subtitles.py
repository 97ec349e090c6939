"""The subtitles job on a generated speech video, next to bare faster-whisper on the same audio.

    .venv/bin/python bench/subtitles.py [--minutes 5] [--database sqlite|postgresql]

It generates, into a temp dir, a `--minutes` long speech video (espeak-ng sayings of varied
sentences at three speeds, short random pauses between them, under a 320x240 `testsrc2` pattern,
H.264 + AAC, made with `moviie.media.ffmpeg.ffmpeg_binary`) and a 10 s one for the warm-up. Then,
in this process and on the same machine:

- moviie: `create_app(settings, worker_queues=QUEUES)` inside its lifespan (API + workers, as
  `moviie serve`; SQLite in the temp data dir, or a fresh PostgreSQL database as bench/api.py
  makes it), queue polling 0.1 s. One account (credits granted if the trial's are short), both
  videos uploaded through an `httpx.ASGITransport` client and waited for until ready. The job is
  timed from the start of `POST /v1/videos/{id}/subtitles` (`{"language": "en"}`) until
  `GET /v1/jobs/{id}`, polled every 0.1 s, shows `succeeded`: queue wait, source check, audio
  extraction, transcription, cues, stored files, track and result rows.
- bare: (a) the job's own extraction command (`moviie.subtitles.tasks.audio_command`) run on the
  same source file, timed around `subprocess.run`; (b) faster-whisper `WhisperModel(path,
  device="cpu", compute_type="int8")` with the job's model (`choose_model(settings, "en")`) and
  `language="en", **TRANSCRIBE_OPTIONS`, on that PCM read as float32 (`read_pcm`), every segment
  and word consumed. It runs in a thread while the idle app keeps running, as the job's
  transcription does.

Both sides are warmed up first on the 10 s clip (one job; one bare transcription), so neither
timing includes loading a model. Then bare runs, then the job (the order is printed). It prints
both times, their real-time factors (time / audio length), the job's own timestamps and engine
steps, the word counts of both transcripts (both should have done the same work), and the ratio
job / (extraction + bare whisper), whose target is <= 1.05.

A measurement, not a test: it exits 0 whatever the figures. It exits 1 when the setup fails, an
ffmpeg run fails or a job fails, and 130 on Ctrl-C; it always removes its temp dir and drops its
PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ai_jobs import (
    JobRun,
    Moviie,
    in_process_moviie,
    job_record,
    main_for,
    moviie_settings,
    print_source,
    speech_wav,
)
from common import ffmpeg_path, run_ffmpeg

TARGET = 1.05  # job / (extraction + bare whisper), at most
WARMUP_S = 10.0
SPEEDS = (140, 160, 180)  # espeak-ng words per minute
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Every morning we walk to the old market by the river.",
    "Please send the report before the end of the week.",
    "Music fills the quiet room when the sun goes down.",
    "The train to the city leaves at half past seven.",
    "She planted tomatoes and beans in the small garden.",
    "Our team will meet on Thursday to review the budget.",
    "A cold wind blew across the empty parking lot.",
    "He forgot his umbrella and got wet on the way home.",
    "The library closes early on public holidays.",
    "Fresh bread from the bakery smells wonderful in the morning.",
    "Turn left at the second light and park near the bank.",
    "The children laughed as the puppy chased its tail.",
    "We need more chairs for the guests in the hall.",
    "The museum shows paintings from many different countries.",
    "Remember to water the plants while I am away.",
)


# --------------------------------------------------------------------------------------------
# The speech video


def speech_video(ffmpeg: str, directory: Path, seconds: float, seed: int) -> tuple[Path, int]:
    """`seconds` of sentences with 0.3-1.0 s pauses (silence pads the end) under a test pattern,
    as an MP4; (path, words spoken)."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    speech = speech_wav(
        directory, SENTENCES, SPEEDS, seconds, rng, pause=lambda: rng.uniform(0.3, 1.0)
    )
    out = directory / "speech.mp4"
    cmd = [
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
        "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds}",
        "-i", str(speech.wav),
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", "-shortest", "-movflags", "+faststart", str(out),
    ]  # fmt: skip
    run_ffmpeg(cmd, "mux the speech video")
    return out, speech.words


# --------------------------------------------------------------------------------------------
# Bare: ffmpeg + faster-whisper


@dataclass
class Bare:
    extraction: float
    whisper: float
    audio_s: float
    words: list[str]


def bare_run(model: Any, ffmpeg: str, source: Path, pcm: Path) -> Bare:
    from moviie.subtitles.tasks import audio_command
    from moviie.subtitles.whisper import SAMPLE_RATE, TRANSCRIBE_OPTIONS, read_pcm

    extraction = run_ffmpeg(audio_command(ffmpeg, source, pcm), "extract the audio")
    started = time.perf_counter()
    audio = read_pcm(pcm)
    segments, _ = model.transcribe(audio, language="en", **TRANSCRIBE_OPTIONS)
    words = [w.word.strip() for s in segments for w in s.words or [] if w.word.strip()]
    whisper = time.perf_counter() - started
    pcm.unlink()
    return Bare(extraction, whisper, len(audio) / SAMPLE_RATE, words)


# --------------------------------------------------------------------------------------------
# Moviie, in process


async def subtitles_job(moviie: Moviie, video_id: str) -> JobRun:
    return await moviie.timed_job(f"/v1/videos/{video_id}/subtitles", {"language": "en"})


async def in_process(
    settings: Any, ffmpeg: str, big: Path, clip: Path, minutes: int
) -> tuple[dict[str, Any], Bare, JobRun]:
    from moviie.subtitles.whisper import choose_model

    charges = [("subtitles", minutes * 60 + 1), ("subtitles", WARMUP_S)]
    async with in_process_moviie(settings, charges, "subtitles bench") as moviie:
        warm_video = await moviie.upload_ready(clip)
        video = await moviie.upload_ready(big)

        warm = await subtitles_job(moviie, warm_video["id"])
        print(f"warm-up: job on the {WARMUP_S:g} s clip {warm.seconds:.2f} s", end="")

        def load_and_warm() -> Any:
            from faster_whisper import WhisperModel

            model = WhisperModel(
                choose_model(settings, "en").path, device="cpu", compute_type="int8"
            )
            bare_run(model, ffmpeg, clip, big.parent / "warm.pcm")
            return model

        started = time.perf_counter()
        model = await asyncio.to_thread(load_and_warm)
        print(f"; bare model loaded + clip {time.perf_counter() - started:.2f} s", flush=True)

        bare = await asyncio.to_thread(bare_run, model, ffmpeg, big, big.parent / "audio.pcm")
        print(
            f"bare: extraction {bare.extraction:.2f} s + whisper {bare.whisper:.2f} s",
            flush=True,
        )
        job = await subtitles_job(moviie, video["id"])
        print(f"job: {job.seconds:.2f} s", flush=True)
    return video, bare, job


# --------------------------------------------------------------------------------------------
# Orchestration


def run(args: argparse.Namespace, tmp: Path) -> int:

    ffmpeg = ffmpeg_path()
    started = time.perf_counter()
    big, spoken = speech_video(ffmpeg, tmp / "speech", args.minutes * 60.0, seed=1)
    clip, _ = speech_video(ffmpeg, tmp / "warm", WARMUP_S, seed=2)
    print_source("speech video", args, big, f"{spoken} words spoken, 320x240 H.264 + AAC", started)

    with moviie_settings(args.database, tmp) as settings:
        video, bare, job = asyncio.run(in_process(settings, ffmpeg, big, clip, args.minutes))

    from moviie.subtitles.whisper import choose_model

    job_words = [w["text"] for w in job.job["result"]["transcript"]["words"]]
    same = difflib.SequenceMatcher(a=job_words, b=bare.words, autojunk=False).ratio()
    bare_total = bare.extraction + bare.whisper
    ratio = job.seconds / bare_total
    audio = bare.audio_s
    print()
    print(f"model: {choose_model(settings, 'en').path}")
    print("order: warm-up (job, then bare, on the clip), then bare, then the job")
    print(f"video length:                     {video['duration_s']:8.2f} s (audio {audio:.2f} s)")
    print(f"job (POST -> succeeded):          {job.seconds:8.2f} s   RTF {job.seconds / audio:.3f}")
    print(f"  its own record: {job_record(job.job)}")
    steps = job.note or ", ".join(f"{s.name} {s.seconds:.2f} s" for s in job.steps)
    print(f"  engine steps: {steps}")
    print(f"bare audio extraction (ffmpeg):   {bare.extraction:8.2f} s")
    print(f"bare faster-whisper:              {bare.whisper:8.2f} s")
    print(f"bare total:                       {bare_total:8.2f} s   RTF {bare_total / audio:.3f}")
    print(
        f"words: job {len(job_words)}, bare {len(bare.words)} (spoken {spoken}); "
        f"sequences {same:.1%} alike"
    )
    verdict = "ok" if ratio <= TARGET else "ABOVE TARGET"
    print(f"job / (extraction + bare whisper) = {ratio:.3f}   {verdict} (<= {TARGET:.2f})")
    return 0


def main() -> int:
    return main_for(__doc__, "moviie-bench-subtitles-", 5, run, "speech video")


if __name__ == "__main__":
    sys.exit(main())
