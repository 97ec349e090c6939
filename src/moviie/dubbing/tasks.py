"""The dubbing material (`lipsync` jobs): the transcript cut into segments (its sentences), each
translated, spoken in the target language (offline voices, or the speaker's own through the
speech provider), fitted to its segment's time, laid over the ducked original; then an HLS audio
rendition beside the video's, an M4A, an MP4 with the dubbed sound, the translated subtitles,
and (with `lipsync: true`) a lip-synced video of its own from the lip-sync provider."""

from __future__ import annotations

import asyncio
import shutil
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
from dbos import DBOS

from moviie.ai.materials import store_material
from moviie.ai.tasks import JobContext, JobProgress, MaterialFailed, material
from moviie.config import Settings
from moviie.db.models import Video
from moviie.dubbing import repository, timing, voices
from moviie.dubbing.translation import translate, translator_for
from moviie.dubbing.views import dub_prefix, dub_view
from moviie.jobs.runtime import runtime
from moviie.media.derived import add_derived_video, derived_video_id
from moviie.media.ffmpeg import ffmpeg_binary, raw_audio_command
from moviie.media.source import local_file, local_source
from moviie.media.tasks import process_video
from moviie.media.transcode import SEGMENT_S, run_ffmpeg
from moviie.providers import lipsync, speech
from moviie.providers.http import ProviderFailed, provider_client
from moviie.storage.keys import video_key
from moviie.subtitles import repository as subtitle_repository
from moviie.subtitles import service as subtitles
from moviie.subtitles.cues import Word, cues_from_words, sentences_of, spread, words_from
from moviie.subtitles.tasks import transcript_for
from moviie.videos import repository as video_repository

AUDIO_KBPS = 128
REFERENCE_S = 30.0  # of the speaker's voice, for cloning
REFERENCE_RATE = 24_000


def segments_of(words: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The talk's sentences, each a segment to translate and voice."""
    return [
        {"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text}
        for s in sentences_of(words_from(words))
        if s.text.strip()
    ]


@DBOS.step(retries_allowed=True, max_attempts=2, interval_seconds=5.0)
async def translate_segments(source: str, target: str, texts: list[str]) -> dict[str, Any]:
    settings = runtime().settings
    translator = translator_for(settings, source, target)
    if translator is None:
        return {
            "rejected": "translation_unavailable",
            "message": f"Nothing here translates {source} into {target}.",
        }
    began = time.monotonic()
    try:
        lines = await translate(settings, translator, texts, target)
    except ProviderFailed as failed:
        return {"rejected": failed.code, "message": failed.message}
    return {
        "texts": lines,
        "engine": translator.engine,
        "quality": translator.quality,
        "seconds": round(time.monotonic() - began, 3),
    }


def _tempo_command(ffmpeg: str, wav: Path, out: Path, tempo: float) -> list[str]:
    """A synthesized WAV as 48 kHz mono float32, at `tempo` (pitch kept)."""
    chain = f"atempo={tempo}," if tempo != 1.0 else ""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-i", str(wav),
        "-af", f"{chain}aresample={timing.SAMPLE_RATE}", "-ac", "1",
        "-f", "f32le", "-acodec", "pcm_f32le", "-loglevel", "error", str(out),
    ]  # fmt: skip


def _encode_commands(ffmpeg: str, raw: Path, m4a: Path, hls: Path) -> list[list[str]]:
    """The mix as AAC in an M4A, then that AAC (copied, not encoded again) as an HLS rendition
    of fMP4 segments as long as the video's."""
    return [
        [
            ffmpeg, "-hide_banner", "-nostdin", "-y", "-f", "f32le",
            "-ar", str(timing.SAMPLE_RATE), "-ac", "2", "-i", str(raw),
            "-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k", "-movflags", "+faststart",
            "-loglevel", "error", str(m4a),
        ],
        [
            ffmpeg, "-hide_banner", "-nostdin", "-y", "-i", str(m4a), "-c", "copy",
            "-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_playlist_type", "vod",
            "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
            "-hls_segment_filename", str(hls / "seg_%04d.m4s"), "-loglevel", "error",
            str(hls / "index.m3u8"),
        ],
    ]  # fmt: skip


def _mp4_command(ffmpeg: str, picture: Path, m4a: Path, out: Path) -> list[str]:
    """The video's MP4 download with the dub for its sound (both copied)."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-i", str(picture), "-i", str(m4a),
        "-map", "0:v:0?", "-map", "1:a:0", "-c", "copy", "-movflags", "+faststart",
        "-loglevel", "error", str(out),
    ]  # fmt: skip


def _reference_voice(original_mono: np.ndarray, segments: list[dict[str, Any]], out: Path) -> bool:
    """Up to 30 s of the speaker alone for cloning: whole sentences of 1.5 to 12 s, never
    clipped, loudest first (the cleanest takes), in their order. False when there are none."""
    rate = REFERENCE_RATE
    takes = []
    for segment in segments:
        first, last = round(segment["start"] * rate), round(segment["end"] * rate)
        piece = original_mono[first:last]
        length = (last - first) / rate
        if 1.5 <= length <= 12.0 and len(piece) and float(np.abs(piece).max()) < 0.99:
            takes.append((float(np.sqrt(np.mean(piece**2))), first, piece))
    chosen, total = [], 0.0
    for _, first, piece in sorted(takes, key=lambda t: -t[0]):
        if total + len(piece) / rate > REFERENCE_S:
            continue
        chosen.append((first, piece))
        total += len(piece) / rate
    if not chosen:
        return False
    pause = np.zeros(round(0.3 * rate), dtype=np.float32)
    joined = np.concatenate([x for _, p in sorted(chosen, key=lambda c: c[0]) for x in (p, pause)])
    pcm = (np.clip(joined, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(out), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(pcm.tobytes())
    return True


async def _cloned_speech(
    settings: Settings,
    video_id: str,
    reference: Path,
    texts: list[str],
    language: str,
    out: Path,
) -> list[Path]:
    assert settings.tts_base_url is not None
    async with provider_client(
        settings.tts_base_url, settings.tts_api_key, settings.provider_timeout_s
    ) as client:
        voice = await speech.create_voice(client, settings, f"moviie-{video_id}", reference)
        try:
            paths = []
            for index, text in enumerate(texts):
                path = out / f"{index:05d}.wav"
                await asyncio.to_thread(
                    path.write_bytes, await speech.speak(client, settings, text, voice, language)
                )
                paths.append(path)
            return paths
        finally:
            await speech.delete_voice(client, voice)


async def _fitted(
    ffmpeg: str, wavs: list[Path], segments: list[dict[str, Any]], duration_s: float, work: Path
) -> list[tuple[timing.Fit, np.ndarray]]:
    """Each segment's speech at its place and tempo (48 kHz mono)."""
    placed = []
    for index, (wav, segment) in enumerate(zip(wavs, segments, strict=True)):
        natural = work / f"natural-{index:05d}.raw"
        await run_ffmpeg(_tempo_command(ffmpeg, wav, natural, 1.0), duration_s=0)
        samples = await asyncio.to_thread(timing.read_f32, natural, 1)
        following = segments[index + 1]["start"] if index + 1 < len(segments) else duration_s
        fit = timing.fit(
            segment["start"], segment["end"], following, len(samples) / timing.SAMPLE_RATE
        )
        if fit.tempo != 1.0:
            paced = work / f"paced-{index:05d}.raw"
            await run_ffmpeg(_tempo_command(ffmpeg, wav, paced, fit.tempo), duration_s=0)
            samples = await asyncio.to_thread(timing.read_f32, paced, 1)
        placed.append((fit, samples[:, 0]))
    return placed


@DBOS.step(retries_allowed=True, max_attempts=2, interval_seconds=5.0)
async def voice_dub(
    job_id: str,
    video_id: str,
    target: str,
    segments: list[dict[str, Any]],
    params: dict[str, Any],
    quality: str,
) -> dict[str, Any]:
    """Speak, fit, mix, encode and publish the dub of `segments` (each with its
    `translation`). `{"rejected": ...}` for what no retry mends."""
    rt = runtime()
    settings = rt.settings
    async with rt.db.transaction(write=False) as session:
        video = await video_repository.get_live(session, video_id)
    if video is None:
        return {"rejected": "video_deleted", "message": "The video was deleted."}
    duration = float(video.duration_s or 0.0)
    spoken = [s for s in segments if s["translation"].strip()]
    texts = [s["translation"] for s in spoken]
    ffmpeg = ffmpeg_binary(settings)
    progress = JobProgress(job_id, 0.35, 0.6)
    timings: dict[str, float] = {}
    work = settings.data_dir / "work" / f"{job_id}-dub"
    await asyncio.to_thread(shutil.rmtree, work, True)
    await asyncio.to_thread(work.mkdir, parents=True)
    try:
        began = time.monotonic()
        original = work / "original.raw"
        async with local_source(rt.storage, video.account_id, video.id, work) as source:
            decode = raw_audio_command(
                ffmpeg, source, original, channels=2, rate=timing.SAMPLE_RATE, sample="f32le"
            )
            await run_ffmpeg(decode, duration_s=0)
            if params["voice_clone"]:
                mono = work / "mono.raw"
                decode = raw_audio_command(
                    ffmpeg, source, mono, channels=1, rate=REFERENCE_RATE, sample="f32le"
                )
                await run_ffmpeg(decode, duration_s=0)
        speech_dir = work / "speech"
        await asyncio.to_thread(speech_dir.mkdir)
        try:
            if params["voice_clone"]:
                reference = work / "reference.wav"
                samples = await asyncio.to_thread(timing.read_f32, mono, 1)
                if not await asyncio.to_thread(
                    _reference_voice, samples[:, 0], segments, reference
                ):
                    return {
                        "rejected": "no_clean_speech",
                        "message": "No sentence of 1.5 to 12 s to clone the voice from.",
                    }
                wavs = await _cloned_speech(
                    settings, video.id, reference, texts, target, speech_dir
                )
                voice = "clone"
            else:
                engine = voices.offline_voice(target)
                if engine is None:
                    return {
                        "rejected": "voice_unavailable",
                        "message": f"No voice speaks {target}.",
                    }
                wavs = await voices.synthesize(engine, target, texts, speech_dir)
                voice = engine
        except ProviderFailed as failed:
            return {"rejected": failed.code, "message": failed.message}
        except voices.SynthesisFailed as failed:
            raise RuntimeError(str(failed)) from failed  # retried, then a confirmed failure
        timings["synthesize_s"] = time.monotonic() - began
        await progress(0.4, force=True)

        began = time.monotonic()
        placed = await _fitted(ffmpeg, wavs, spoken, duration, work)
        timings["fit_s"] = time.monotonic() - began
        await progress(0.6, force=True)

        began = time.monotonic()
        mixed = work / "dub.raw"
        under = original if params["background"] == "duck" else None
        await asyncio.to_thread(timing.mix, mixed, duration, placed, under)
        m4a, hls = work / "dub.m4a", work / "hls"
        await asyncio.to_thread(hls.mkdir)
        for command in _encode_commands(ffmpeg, mixed, m4a, hls):
            await run_ffmpeg(command, duration_s=0)
        mp4 = work / "dubbed.mp4"
        download = video_key(video.account_id, video.id, "download.mp4")
        async with local_file(rt.storage, download, work) as picture:
            await run_ffmpeg(_mp4_command(ffmpeg, picture, m4a, mp4), duration_s=0)
        timings["mux_s"] = time.monotonic() - began

        public = settings.resolved_public_url
        prefix = dub_prefix(job_id)
        for file in sorted(hls.iterdir()):
            await rt.storage.put_file(
                video_key(video.account_id, video.id, f"{prefix}/{file.name}"), file
            )
        urls = {
            name: await store_material(
                rt.storage, public, video.account_id, video.id, job_id, name, path
            )
            for name, path in (("dub.m4a", m4a), ("dubbed.mp4", mp4))
        }
        words: list[Word] = []
        for segment in spoken:
            words += spread(segment["translation"], segment["start"], segment["end"])
        await subtitles.store_files(
            rt.storage, video.account_id, video.id, target, cues_from_words(words)
        )
        async with rt.db.transaction() as session:
            track = await subtitle_repository.get_track(session, video.id, target)
            if track is None or track.source != "uploaded":  # a customer's own file stays
                await subtitles.save_track(
                    session, video.account_id, video.id, target, "translated", job_id
                )
            replaced = await repository.save_dub(
                session, video.account_id, video.id, target, job_id, quality, voice
            )
        if replaced is not None and replaced != job_id:  # the older dub's rendition goes
            old = video_key(video.account_id, video.id, dub_prefix(replaced) + "/")
            await rt.storage.delete_prefix(old)
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    return {
        "voice": voice,
        "audio": {"hls": f"{public}/media/{video.id}/{prefix}/index.m3u8", "m4a": urls["dub.m4a"]},
        "mp4": urls["dubbed.mp4"],
        "segments": [
            {
                "start_s": s["start"],
                "end_s": s["end"],
                "text": s["text"],
                "translation": s["translation"],
                "dub_start_s": round(fit.start, 3),
                "dub_end_s": round(fit.end, 3),
                "tempo": fit.tempo,
                "cut": fit.cut,
            }
            for s, (fit, _) in zip(spoken, placed, strict=True)
        ],
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }


@DBOS.step(retries_allowed=True, max_attempts=2, interval_seconds=5.0)
async def lip_sync_video(job_id: str, video_id: str, target: str) -> dict[str, Any]:
    """The lip-synced video, made a video of its own (its id derived from the job: a rerun
    finds it made)."""
    rt = runtime()
    synced_id = derived_video_id(job_id, "lipsync")
    async with rt.db.transaction(write=False) as session:
        video = await video_repository.get_live(session, video_id)
        made = await session.get(Video, synced_id)
    if video is None:
        return {"rejected": "video_deleted", "message": "The video was deleted."}
    if made is not None:
        return {"video_id": synced_id}
    work = rt.settings.data_dir / "work" / f"{job_id}-lipsync"
    await asyncio.to_thread(shutil.rmtree, work, True)
    await asyncio.to_thread(work.mkdir, parents=True)
    try:
        picture_key = video_key(video.account_id, video.id, "download.mp4")
        sound_key = video_key(video.account_id, video.id, f"materials/{job_id}/dub.m4a")
        out = work / "lipsync.mp4"
        async with (
            local_file(rt.storage, picture_key, work / "p") as picture,
            local_file(rt.storage, sound_key, work / "a") as sound,
        ):
            try:
                await lipsync.lip_sync(rt.settings, picture, sound, target, out)
            except ProviderFailed as failed:
                return {"rejected": failed.code, "message": failed.message}
        title = f"{video.title or 'Video'} ({target})"
        await add_derived_video(video, synced_id, out, title, (0.0, float(video.duration_s or 0)))
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    return {"video_id": synced_id}


@DBOS.step()
async def describe_dub(
    video_id: str, target: str, job_id: str, lipsync_video_id: str | None
) -> dict[str, Any]:
    rt = runtime()
    async with rt.db.transaction() as session:
        dub = await repository.get_dub(session, video_id, target)
        if dub is not None and dub.job_id == job_id and lipsync_video_id is not None:
            dub.lipsync_video_id = lipsync_video_id
        synced = await session.get(Video, lipsync_video_id) if lipsync_video_id else None
        view = dub_view(dub, synced, rt.settings.resolved_public_url) if dub else None
    return {"lipsync": view.lipsync.model_dump() if view and view.lipsync else None}


@material("lipsync")
async def make_dub(job: JobContext) -> dict[str, Any]:
    params = job.params
    target = params["target_language"]
    began = time.monotonic()
    found = await transcript_for(job, params.get("language"))
    transcribed_s = time.monotonic() - began
    progress = JobProgress(job.job_id)
    if found["language"] == target:
        raise MaterialFailed("same_language", f"The video already speaks {target}.")
    segments = segments_of(found["words"])
    if not segments:
        raise MaterialFailed("no_speech", "The video says nothing to dub.")
    await progress(0.2, force=True)
    translated = await translate_segments(found["language"], target, [s["text"] for s in segments])
    if "rejected" in translated:
        raise MaterialFailed(translated["rejected"], translated["message"])
    for segment, line in zip(segments, translated["texts"], strict=True):
        segment["translation"] = line
    await progress(0.35, force=True)
    dubbed = await voice_dub(
        job.job_id, job.video_id, target, segments, params, translated["quality"]
    )
    if "rejected" in dubbed:
        raise MaterialFailed(dubbed["rejected"], dubbed["message"])
    synced_id = None
    if params["lipsync"]:
        synced = await lip_sync_video(job.job_id, job.video_id, target)
        if "rejected" in synced:
            raise MaterialFailed(synced["rejected"], synced["message"])
        synced_id = synced["video_id"]
        if await process_video(synced_id) != "ready":
            raise MaterialFailed("lipsync_failed", "The lip-synced video could not be processed.")
    described = await describe_dub(job.video_id, target, job.job_id, synced_id)
    timings = {"transcribe_s": round(transcribed_s, 3), "translate_s": translated["seconds"]}
    public = runtime().settings.resolved_public_url
    return {
        "language": target,
        "source_language": found["language"],
        "quality": translated["quality"],
        "translation": translated["engine"],
        "background": params["background"],
        **{k: v for k, v in dubbed.items() if k != "timings_s"},
        "subtitles": f"{public}/media/{job.video_id}/subtitles/{target}.vtt",
        "lipsync": described["lipsync"],
        "timings_s": timings | dubbed["timings_s"],
    }
