"""The reels material: the transcript (the video's own if one was made, else transcribed now),
the moments worth posting, each rendered vertical on the speaker with its captions, then made a
video of its own (processed like any upload: HLS, poster, embed, an MP4 download)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

from dbos import DBOS

from moviie.ai.tasks import JobContext, JobProgress, MaterialFailed, material
from moviie.db.models import Video
from moviie.jobs.runtime import runtime
from moviie.media.derived import add_derived_video, derived_video_id
from moviie.media.ffmpeg import ffmpeg_binary
from moviie.media.scenes import scene_cuts
from moviie.media.source import local_source
from moviie.media.tasks import process_video
from moviie.media.transcode import run_ffmpeg
from moviie.reels import captions, evidence, framing, render, selection
from moviie.subtitles import whisper
from moviie.subtitles.cues import sentences_of, words_from
from moviie.subtitles.tasks import audio_command, transcript_for
from moviie.videos import repository as video_repository
from moviie.videos import service as videos


@DBOS.step(retries_allowed=True, max_attempts=2, interval_seconds=2.0)
async def select_moments(
    job_id: str, video_id: str, language: str, words: list[dict[str, Any]], params: dict[str, Any]
) -> list[dict[str, Any]]:
    rt = runtime()
    async with rt.db.transaction(write=False) as session:
        video = await video_repository.get_live(session, video_id)
    if video is None:
        return []
    sentences = sentences_of(words_from(words))
    windows = selection.candidates(sentences, params["min_duration_s"], params["max_duration_s"])
    work = rt.settings.data_dir / "work" / job_id
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    ffmpeg = ffmpeg_binary(rt.settings)
    try:
        async with local_source(rt.storage, video.account_id, video.id, work) as source:
            pcm_path = work / "audio.pcm"
            await run_ffmpeg(audio_command(ffmpeg, source, pcm_path), duration_s=0)
            cuts = await scene_cuts(ffmpeg, source)
        pcm = await asyncio.to_thread(whisper.read_pcm, pcm_path)
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    facts = await asyncio.to_thread(
        evidence.gather, sentences, language, pcm, whisper.SAMPLE_RATE, cuts
    )
    selection.score(windows, facts)
    chosen = selection.pick(windows, params["count"])
    return [
        {
            "start_s": round(w.start, 3),
            "end_s": round(w.end, 3),
            "text": w.text,
            "title": evidence.title_of(w.text, language),
            "score": w.score,
            "signals": w.signals,
        }
        for w in chosen
    ]


def _track(
    ffmpeg: str, source: Path, start_s: float, end_s: float, width: int, height: int, scale: float
) -> list[framing.Sample]:
    """Blocking: sample the range's frames and follow the speaker, streaming."""
    command = render.frames_command(ffmpeg, source, start_s, end_s, width, framing.SAMPLE_FPS)
    # The command is ours (ffmpeg's path, a stored file, numbers): no shell, no user text.
    with subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    ) as process:
        assert process.stdout is not None
        frames = framing.read_frames(process.stdout, width, height, framing.SAMPLE_FPS)
        samples = framing.follow(frames, scale)
    return samples


@DBOS.step(retries_allowed=True, max_attempts=2, interval_seconds=2.0)
async def render_reel(
    job_id: str,
    video_id: str,
    index: int,
    moment: dict[str, Any],
    words: list[dict[str, Any]],
    params: dict[str, Any],
) -> str | None:
    """Render moment `index` and make it a video of its own (its id is fixed by the job and
    the index: a rerun finds it made). None when the source video is gone."""
    rt = runtime()
    reel_id = derived_video_id(job_id, index)
    async with rt.db.transaction(write=False) as session:
        video = await video_repository.get_live(session, video_id)
        made = await session.get(Video, reel_id)
    if video is None:
        return None
    if made is not None:
        return reel_id
    assert video.width is not None
    assert video.height is not None
    start, end = moment["start_s"], moment["end_s"]
    crop_w, crop_h = render.crop_size(video.width, video.height, params["aspect"])
    size = render.ASPECTS[params["aspect"]]
    ffmpeg = ffmpeg_binary(rt.settings)
    work = rt.settings.data_dir / "work" / f"{job_id}-{index}"
    await asyncio.to_thread(shutil.rmtree, work, True)
    await asyncio.to_thread(work.mkdir, parents=True)
    try:
        async with local_source(rt.storage, video.account_id, video.id, work) as source:
            detect_h = render.even(framing.DETECT_WIDTH * video.height / video.width)
            scale = video.width / framing.DETECT_WIDTH
            samples = await asyncio.to_thread(
                _track, ffmpeg, source, start, end, framing.DETECT_WIDTH, detect_h, scale
            )
            path = framing.crop_path(samples, video.width, crop_w)
            moves = work / "moves.txt"
            await asyncio.to_thread(moves.write_text, framing.sendcmd_script(path))
            subtitles = fonts = None
            if params["captions"]:
                inside = [w for w in words_from(words) if start <= w.start < end]
                subtitles = work / "captions.ass"
                document = captions.ass_document(inside, start, *size)
                await asyncio.to_thread(subtitles.write_text, document)
                fonts = await asyncio.to_thread(captions.font_dir, work)
            out = work / "reel.mp4"
            y = (video.height - crop_h) // 2
            command = render.render_command(
                ffmpeg, source, out, start_s=start, end_s=end,
                crop=(crop_w, crop_h, path[0][1] if path else 0, y), size=size,
                moves=moves if path else None, captions=subtitles, fonts=fonts,
                has_audio=bool(video.has_audio),
            )  # fmt: skip
            await run_ffmpeg(command, duration_s=end - start)
        await add_derived_video(video, reel_id, out, moment["title"], (start, end))
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    return reel_id


@DBOS.step()
async def describe_reels(reel_ids: list[str], moments: list[dict[str, Any]]) -> dict[str, Any]:
    rt = runtime()
    public = rt.settings.resolved_public_url
    reels = []
    async with rt.db.transaction(write=False) as session:
        for reel_id, moment in zip(reel_ids, moments, strict=True):
            reel = await session.get(Video, reel_id)
            if reel is None or reel.status != "ready":
                continue
            urls = videos.playback_urls(reel, public)
            reels.append(
                {
                    "video_id": reel.id,
                    "title": moment["title"],
                    "start_s": moment["start_s"],
                    "end_s": moment["end_s"],
                    "duration_s": reel.duration_s,
                    "width": reel.width,
                    "height": reel.height,
                    "score": moment["score"],
                    "signals": moment["signals"],
                    "text": moment["text"],
                    "embed": f"{public}/embed/{reel.id}",
                    "hls": urls.hls if urls else None,
                    "mp4": urls.mp4 if urls else None,
                }
            )
    return {"reels": reels, "weights": selection.WEIGHTS}


@material("reels")
async def make_reels(job: JobContext) -> dict[str, Any]:
    params = job.params
    found = await transcript_for(job, params.get("language"))
    progress = JobProgress(job.job_id)
    await progress(0.2, force=True)
    moments = await select_moments(
        job.job_id, job.video_id, found["language"], found["words"], params
    )
    if not moments:
        raise MaterialFailed(
            "no_moments",
            "No stretch of the talk between the durations asked for starts and ends on a sentence.",
        )
    reel_ids: list[str] = []
    for index, moment in enumerate(moments):
        reel_id = await render_reel(job.job_id, job.video_id, index, moment, found["words"], params)
        if reel_id is None:
            raise MaterialFailed("video_deleted", "The video was deleted.")
        reel_ids.append(reel_id)
        await progress(0.2 + 0.5 * (index + 1) / len(moments), force=True)
    for reel_id in reel_ids:  # processed here, as child jobs: the reels play when this ends
        if await process_video(reel_id) != "ready":
            raise MaterialFailed("reel_failed", f"The reel {reel_id} could not be processed.")
    return await describe_reels(reel_ids, moments)
