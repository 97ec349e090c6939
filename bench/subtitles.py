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
import uuid
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ai_jobs import main_for, moviie_settings, run_ffmpeg, run_job, say, upload_ready

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
    takes: dict[tuple[int, int], np.ndarray] = {}
    rate = 0
    parts: list[np.ndarray] = []
    length = spoken = 0
    order: list[tuple[int, int]] = []
    while True:
        if not order:  # every sentence once per round, each at a random speed
            order = [(n, rng.choice(SPEEDS)) for n in range(len(SENTENCES))]
            rng.shuffle(order)
        key = order.pop()
        if key not in takes:
            takes[key], rate = say(SENTENCES[key[0]], key[1], directory / f"s{key[0]}-{key[1]}.wav")
        gap = np.zeros(int(rng.uniform(0.3, 1.0) * rate), dtype=np.int16)
        if (length + len(gap) + len(takes[key])) / rate > seconds:
            break
        parts += [gap, takes[key]]
        length += len(gap) + len(takes[key])
        spoken += len(SENTENCES[key[0]].split())
    parts.append(np.zeros(int(seconds * rate) - length, dtype=np.int16))
    wav_path = directory / "speech.wav"
    with wave.open(str(wav_path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.concatenate(parts).tobytes())
    out = directory / "speech.mp4"
    cmd = [
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
        "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds}",
        "-i", str(wav_path),
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", "-shortest", "-movflags", "+faststart", str(out),
    ]  # fmt: skip
    run_ffmpeg(cmd, "mux the speech video")
    return out, spoken


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


@dataclass
class JobRun:
    seconds: float  # POST start -> succeeded seen
    job: dict[str, Any]
    steps: list[tuple[str, float]]  # the engine's records of the job's workflow


async def subtitles_job(app: Any, client: Any, headers: dict[str, str], video_id: str) -> JobRun:
    path = f"/v1/videos/{video_id}/subtitles"
    seconds, job = await run_job(client, headers, path, {"language": "en"})
    return JobRun(seconds, job, await engine_steps(app, job["id"]))


async def engine_steps(app: Any, job_id: str) -> list[tuple[str, float]]:
    """Each step of the job's workflow (its id is the job's) and how long it took."""
    from sqlalchemy import text

    sqlite = app.state.settings.database_url.startswith("sqlite")
    table = "operation_outputs" if sqlite else "dbos.operation_outputs"
    try:
        async with app.state.db.transaction(write=False) as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT function_name, started_at_epoch_ms, completed_at_epoch_ms "
                        f"FROM {table} WHERE workflow_uuid = :id ORDER BY function_id"
                    ),
                    {"id": job_id},
                )
            ).all()
    except Exception as exc:
        return [(f"(engine records not readable: {exc})", 0.0)]
    return [(n.rsplit(".", 1)[-1], (e - b) / 1000) for n, b, e in rows if b and e]


async def in_process(
    settings: Any, ffmpeg: str, big: Path, clip: Path, minutes: int
) -> tuple[dict[str, Any], Bare, JobRun]:
    import httpx

    from moviie.accounts.service import create_account
    from moviie.ai.pricing import price
    from moviie.app import create_app
    from moviie.credits.service import grant
    from moviie.jobs.queues import QUEUES
    from moviie.subtitles.whisper import choose_model

    app = create_app(settings, worker_queues=QUEUES)
    async with app.router.lifespan_context(app):
        async with app.state.db.transaction() as session:
            account = await create_account(
                session, email=f"{uuid.uuid4().hex[:10]}@example.test", name="Bench"
            )
            needed = price("subtitles", minutes * 60 + 1) + price("subtitles", WARMUP_S)
            if account.account.credits_balance < needed:
                await grant(session, account.account.id, needed, note="subtitles bench")
        headers = {"Authorization": f"Bearer {account.private_key}"}
        transport = httpx.ASGITransport(app=app)
        timeout = httpx.Timeout(600.0)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://moviie.test", timeout=timeout
        ) as client:
            started = time.perf_counter()
            warm_video = await upload_ready(client, headers, clip)
            video = await upload_ready(client, headers, big)
            print(f"uploaded and ready in {time.perf_counter() - started:.1f} s", flush=True)

            warm = await subtitles_job(app, client, headers, warm_video["id"])
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
            job = await subtitles_job(app, client, headers, video["id"])
            print(f"job: {job.seconds:.2f} s", flush=True)
    return video, bare, job


# --------------------------------------------------------------------------------------------
# Orchestration


def job_record(job: dict[str, Any]) -> str:
    """Queued and running time from the job's own timestamps."""
    try:
        created, begun, ended = (
            datetime.fromisoformat(job[k]) for k in ("created_at", "started_at", "finished_at")
        )
    except (TypeError, ValueError, KeyError):
        return "(timestamps missing)"
    return (
        f"queued {(begun - created).total_seconds():.2f} s, "
        f"running {(ended - begun).total_seconds():.2f} s"
    )


def run(args: argparse.Namespace, tmp: Path) -> int:
    import os

    from moviie.config import Settings
    from moviie.media.ffmpeg import ffmpeg_binary

    ffmpeg = ffmpeg_binary(Settings())
    started = time.perf_counter()
    big, spoken = speech_video(ffmpeg, tmp / "speech", args.minutes * 60.0, seed=1)
    clip, _ = speech_video(ffmpeg, tmp / "warm", WARMUP_S, seed=2)
    print(
        f"speech video: {args.minutes} min, {spoken} words spoken, 320x240 H.264 + AAC, "
        f"{big.stat().st_size / 1e6:.1f} MB, generated in {time.perf_counter() - started:.1f} s; "
        f"{os.cpu_count()} CPUs; {args.database}",
        flush=True,
    )

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
    print("  engine steps: " + ", ".join(f"{n} {s:.2f} s" for n, s in job.steps))
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
