"""The subtitles material: extract the audio (16 kHz mono), transcribe it with word timings,
cut it into readable cues, store WebVTT and SRT, and (when asked) a translated track."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import av
from dbos import DBOS
from sqlalchemy import select

from moviie.ai.tasks import JobContext, JobProgress, MaterialFailed, material
from moviie.db.models import Job
from moviie.jobs.runtime import runtime
from moviie.media.ffmpeg import ffmpeg_binary, raw_audio_command
from moviie.media.source import local_source
from moviie.media.transcode import run_ffmpeg
from moviie.providers.http import ProviderFailed
from moviie.subtitles import service, whisper
from moviie.subtitles.cues import cues_from_words
from moviie.subtitles.formats import parse
from moviie.subtitles.translate import translate_cues
from moviie.subtitles.views import track_view
from moviie.videos import repository as video_repository


def audio_command(ffmpeg: str, source: Path, out: Path) -> list[str]:
    """The first audio stream as raw 16 kHz mono 16-bit PCM (what Whisper takes)."""
    return raw_audio_command(ffmpeg, source, out, channels=1, rate=whisper.SAMPLE_RATE)


def has_audio(path: Path) -> bool:
    with av.open(str(path)) as container:
        return bool(container.streams.audio)


@DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=2.0, backoff_rate=2.0)
async def transcribe_video(job_id: str, video_id: str, language: str | None) -> dict[str, Any]:
    """The generated track and the transcript; `{"rejected": ...}` for what no retry mends."""
    rt = runtime()
    async with rt.db.transaction(write=False) as session:
        video = await video_repository.get_live(session, video_id)
    if video is None:
        return {"rejected": "video_deleted", "message": "The video was deleted."}
    try:
        choice = whisper.choose_model(rt.settings, language)
    except whisper.ModelUnavailable as unavailable:
        return {"rejected": "language_unavailable", "message": str(unavailable)}
    work = rt.settings.data_dir / "work" / job_id
    await asyncio.to_thread(shutil.rmtree, work, True)
    progress = JobProgress(job_id)
    try:
        async with local_source(rt.storage, video.account_id, video.id, work) as source:
            if not await asyncio.to_thread(has_audio, source):
                return {"rejected": "no_audio", "message": "The video has no audio stream."}
            pcm = work / "audio.pcm"
            await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
            extract = audio_command(ffmpeg_binary(rt.settings), source, pcm)
            await run_ffmpeg(extract, duration_s=video.duration_s or 0.0)
        audio = await asyncio.to_thread(whisper.read_pcm, pcm)
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    await progress(0.05, force=True)
    loop = asyncio.get_running_loop()

    def report(fraction: float) -> None:  # from the transcribing thread
        asyncio.run_coroutine_threadsafe(progress(0.05 + 0.85 * fraction), loop)

    transcript = await asyncio.to_thread(whisper.transcribe, choice, audio, language, report)
    cues = cues_from_words(transcript.words)
    await service.store_files(rt.storage, video.account_id, video.id, transcript.language, cues)
    async with rt.db.transaction() as session:
        track = await service.save_track(
            session, video.account_id, video.id, transcript.language, "generated", job_id
        )
        view = track_view(track, rt.settings.resolved_public_url)
    return {
        "language": transcript.language,
        "duration_s": round(transcript.duration_s, 3),
        "tracks": [view.model_dump()],
        "cues": len(cues),
        "transcript": {
            "text": transcript.text,
            "words": [
                {"text": w.text, "start": round(w.start, 3), "end": round(w.end, 3)}
                for w in transcript.words
            ],
        },
    }


@DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=5.0, backoff_rate=2.0)
async def translate_track(job_id: str, video_id: str, source: str, target: str) -> dict[str, Any]:
    rt = runtime()
    async with rt.db.transaction(write=False) as session:
        video = await video_repository.get_live(session, video_id)
    if video is None:
        return {"rejected": "video_deleted", "message": "The video was deleted."}
    key = service.track_key(video.account_id, video.id, source, "vtt")
    data = b"".join([chunk async for chunk in rt.storage.get_range(key)])
    try:
        cues = await translate_cues(rt.settings, parse(data), target)
    except ProviderFailed as failed:
        return {"rejected": failed.code, "message": failed.message}
    await service.store_files(rt.storage, video.account_id, video.id, target, cues)
    async with rt.db.transaction() as session:
        track = await service.save_track(
            session, video.account_id, video.id, target, "translated", job_id
        )
        return track_view(track, rt.settings.resolved_public_url).model_dump()


@material("subtitles")
async def make_subtitles(job: JobContext) -> dict[str, Any]:
    made = await transcribe_video(job.job_id, job.video_id, job.params.get("language"))
    if "rejected" in made:
        raise MaterialFailed(made["rejected"], made["message"])
    target = job.params.get("translate_to")
    if target and target != made["language"]:
        translated = await translate_track(job.job_id, job.video_id, made["language"], target)
        if "rejected" in translated:
            raise MaterialFailed(translated["rejected"], translated["message"])
        made["tracks"].append(translated)
    return made


@DBOS.step()
async def find_transcript(video_id: str, language: str | None) -> dict[str, Any] | None:
    """The newest transcript a subtitles job made of this video (in `language` if given)."""
    async with runtime().db.transaction(write=False) as session:
        stmt = (
            select(Job)
            .where(Job.video_id == video_id, Job.type == "subtitles", Job.status == "succeeded")
            .order_by(Job.id.desc())
        )
        for job in (await session.scalars(stmt)).all():
            result = job.result or {}
            if language in (None, result.get("language")) and "transcript" in result:
                return {"language": result["language"], "words": result["transcript"]["words"]}
    return None


async def transcript_for(job: JobContext, language: str | None) -> dict[str, Any]:
    """Workflow code for the materials built on a transcript: the video's own (a subtitles job
    made it) or one made now. `{"language", "words": [{"text", "start", "end"}]}`."""
    found = await find_transcript(job.video_id, language)
    if found is not None:
        return found
    made = await transcribe_video(job.job_id, job.video_id, language)
    if "rejected" in made:
        raise MaterialFailed(made["rejected"], made["message"])
    return {"language": made["language"], "words": made["transcript"]["words"]}
