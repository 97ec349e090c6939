"""The dubbing job (`lipsync`) en -> es offline on a generated English talk, step by step.

    .venv/bin/python bench/dubbing.py [--minutes 5] [--database sqlite|postgresql]

It generates, into a temp dir, a `--minutes` long English talk with `speech_video` of
bench/subtitles.py (espeak-ng sentences at three speeds, random pauses, under a 320x240 test
pattern, H.264 + AAC). Before any server starts, it times the decode floor: the job's own
command (`moviie.media.ffmpeg.raw_audio_command`) decoding the source's audio once to 48 kHz
stereo float32 PCM, which every dub pays. Then, in this process:

- moviie: `create_app(settings, worker_queues=QUEUES)` inside its lifespan (API + workers, as
  `moviie serve`; SQLite in the temp data dir, or a fresh PostgreSQL database as bench/api.py
  makes it), queue polling 0.1 s, no chat / speech / lip-sync provider (so Apertium translates
  and espeak-ng speaks). One account, credits granted for the dub, the talk uploaded through an
  `httpx.ASGITransport` client and waited for until ready.
- the job: timed from the start of `POST /v1/videos/{id}/lipsync` `{"target_language": "es"}`
  until `GET /v1/jobs/{id}`, polled every 0.1 s, shows `succeeded`. No warm-up: the whisper
  model loads inside the transcription, as in a fresh server.

It prints the source duration; the decode floor; the job's total, as a multiple of the source
duration and of the decode floor; each step of the job's own `result["timings_s"]` (transcribe,
translate, synthesize, fit, mux) in seconds and as a multiple of the source duration; what is
left outside them; and the number of segments. The job's `synthesize` includes its own decode
of the source (the decode floor, once more).

A measurement, not a test: it exits 0 whatever the figures. It exits 1 when the setup fails
(no Apertium eng-spa pair, no Spanish espeak-ng voice), an ffmpeg or espeak-ng run fails or the
job fails, and 130 on Ctrl-C; it always removes its temp dir and drops its PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ai_jobs import in_process_moviie, job_record, main_for, moviie_settings, print_source
from common import BenchFailed, ffmpeg_path, run_ffmpeg
from subtitles import speech_video

SOURCE, TARGET = "en", "es"
STEPS = ("transcribe", "translate", "synthesize", "fit", "mux")


def decode_floor(ffmpeg: str, source: Path, out: Path) -> float:
    """Seconds for the job's own decode of the source's audio to raw PCM, once."""
    from moviie.dubbing import timing
    from moviie.media.ffmpeg import raw_audio_command

    command = raw_audio_command(
        ffmpeg, source, out, channels=2, rate=timing.SAMPLE_RATE, sample="f32le"
    )
    seconds = run_ffmpeg(command, "decode the audio")
    out.unlink()
    return seconds


async def in_process(settings: Any, talk: Path, seconds: float) -> tuple[dict, float, dict]:
    """(the video, seconds from the POST to `succeeded` seen, the job)."""
    async with in_process_moviie(settings, [("lipsync", seconds + 1)], "dubbing bench") as moviie:
        video = await moviie.upload_ready(talk)
        path = f"/v1/videos/{video['id']}/lipsync"
        total, job = await moviie.run_job(path, {"target_language": TARGET})
        print(f"job: {total:.2f} s", flush=True)
    return video, total, job


def report(video: dict[str, Any], floor: float, total: float, job: dict[str, Any]) -> None:
    result = job["result"]
    source_s = float(video["duration_s"])
    timings = result["timings_s"]
    segments = result["segments"]
    print()
    print(
        f"{result['source_language']} -> {result['language']}: translation "
        f"{result['translation']} ({result['quality']}), voice {result['voice']}"
    )
    print(f"{'source duration':<24}{source_s:8.2f} s")
    print(f"{'decode floor (ffmpeg)':<24}{floor:8.3f} s  {floor / source_s:7.4f}x source")
    print(
        f"{'job (POST -> succeeded)':<24}{total:8.2f} s  {total / source_s:7.4f}x source  "
        f"{total / floor:6.1f}x decode floor  ({job_record(job)})"
    )
    for step in STEPS:
        seconds = float(timings[f"{step}_s"])
        print(f"  {step:<21}{seconds:8.2f} s  {seconds / source_s:7.4f}x source")
    rest = total - sum(float(timings[f"{s}_s"]) for s in STEPS)
    print(
        f"  {'other':<21}{rest:8.2f} s  {rest / source_s:7.4f}x source"
        "  (queue wait, storing files and rows, 0.1 s polling)"
    )
    paced = sum(1 for s in segments if s["tempo"] != 1.0)
    cut = sum(1 for s in segments if s["cut"])
    print(f"segments: {len(segments)} ({paced} at another tempo, {cut} cut)")


def run(args: argparse.Namespace, tmp: Path) -> int:
    from moviie.dubbing.translation import apertium_mode
    from moviie.dubbing.voices import espeak_voice

    if apertium_mode(SOURCE, TARGET) is None or espeak_voice(TARGET) is None:
        raise BenchFailed(f"needs Apertium's {SOURCE}->{TARGET} pair and espeak-ng's {TARGET}")
    ffmpeg = ffmpeg_path()
    started = time.perf_counter()
    talk, spoken = speech_video(ffmpeg, tmp / "talk", args.minutes * 60.0, seed=1)
    print_source("talk", args, talk, f"{spoken} words spoken, 320x240 H.264 + AAC", started)
    floor = decode_floor(ffmpeg, talk, tmp / "floor.raw")

    with moviie_settings(
        args.database,
        tmp,
        llm_base_url=None,  # offline: Apertium, espeak-ng
        tts_base_url=None,
    ) as settings:
        video, total, job = asyncio.run(in_process(settings, talk, args.minutes * 60.0))
    report(video, floor, total, job)
    return 0


def main() -> int:
    return main_for(__doc__, "moviie-bench-dubbing-", 5, run)


if __name__ == "__main__":
    sys.exit(main())
