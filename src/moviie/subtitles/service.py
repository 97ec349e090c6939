"""Subtitle tracks (generated, translated or uploaded) and the request that makes them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.ai import pricing
from moviie.ai import service as ai
from moviie.config import Settings
from moviie.db.models import Account, SubtitleTrack
from moviie.db.types import utcnow
from moviie.errors import NotFound, ValidationFailed
from moviie.ids import new_id
from moviie.storage.base import Storage
from moviie.storage.keys import video_key, video_prefix
from moviie.subtitles import repository, whisper
from moviie.subtitles.cues import Cue
from moviie.subtitles.formats import parse, to_srt, to_vtt
from moviie.subtitles.languages import label
from moviie.subtitles.schemas import SubtitlesRequest
from moviie.videos import service as videos


class NoAudio(ValidationFailed):
    code = "no_audio"
    title = "The video has no audio to transcribe"


class LanguageUnavailable(ValidationFailed):
    code = "language_unavailable"
    title = "No speech model for this language is installed"


class TranslationUnavailable(ValidationFailed):
    code = "translation_unavailable"
    title = "Translation needs an LLM provider (MOVIIE_LLM_BASE_URL)"


class SubtitleTrackNotFound(NotFound):
    code = "subtitle_track_not_found"


def track_key(account_id: str, video_id: str, language: str, extension: str) -> str:
    return video_key(account_id, video_id, f"subtitles/{language}/track.{extension}")


def media_path_to_key(path: str) -> str:
    """`subtitles/en.vtt` (the public path) to `subtitles/en/track.vtt` (its storage name)."""
    language, extension = path.removeprefix("subtitles/").rsplit(".", 1)
    return f"subtitles/{language}/track.{extension}"


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def store_files(
    storage: Storage, account_id: str, video_id: str, language: str, cues: Sequence[Cue]
) -> None:
    """Both formats, each written whole (a rerun overwrites them)."""
    for extension, text in (("vtt", to_vtt(cues)), ("srt", to_srt(cues))):
        key = track_key(account_id, video_id, language, extension)
        await storage.put_stream(key, _one(text.encode()))


async def save_track(
    session: AsyncSession,
    account_id: str,
    video_id: str,
    language: str,
    source: str,
    job_id: str | None = None,
) -> SubtitleTrack:
    """Add the language's track, or make the existing one this (its files were replaced)."""
    track = await repository.get_track(session, video_id, language)
    now = utcnow()
    if track is None:
        track = SubtitleTrack(
            id=new_id("sub"),
            account_id=account_id,
            video_id=video_id,
            language=language,
            label=label(language),
            created_at=now,
        )
        session.add(track)
    track.source, track.job_id, track.updated_at = source, job_id, now
    await session.flush()
    return track


def spoken_language(settings: Settings, requested: str | None) -> str | None:
    """The language to transcribe in, for every material built on speech: the one asked for if
    a model here knows it (else 422); omitted, None (detect it) when the model knows several
    languages, else English."""
    available = whisper.languages_available(settings)
    language = requested or (None if len(available) > 1 else "en")
    if language is not None and language not in available:
        hint = "" if len(available) > 1 else "; install moviie[multilingual] for others"
        raise LanguageUnavailable(
            f"{language!r} cannot be transcribed here (Whisper's codes, such as `en` or `fr`, "
            f"are taken{hint}).",
            param="language",
        )
    return language


async def request_subtitles(
    session: AsyncSession,
    settings: Settings,
    account: Account,
    video_id: str,
    body: SubtitlesRequest,
) -> ai.Accepted:
    """Refused up front (nothing charged) when it could not succeed: no audio, no model for the
    language, a translation without a provider."""
    video = await ai.ready_video(session, account.id, video_id)
    if video.has_audio is False:
        raise NoAudio(f"Video {video_id} has no audio stream.")
    language = spoken_language(settings, body.language)
    if body.translate_to and not settings.llm_base_url:
        raise TranslationUnavailable(
            "Set MOVIIE_LLM_BASE_URL (an OpenAI-compatible API) to translate subtitles.",
            param="translate_to",
        )
    extra = pricing.TRANSLATION_PER_MINUTE if body.translate_to else 0
    price = pricing.price("subtitles", video.duration_s or 0.0, extra_per_minute=extra)
    params = {"language": language, "translate_to": body.translate_to}
    return await ai.accept_job(session, account, video, "subtitles", params, price)


async def list_tracks(
    session: AsyncSession, account_id: str, video_id: str
) -> Sequence[SubtitleTrack]:
    video = await videos.get_video(session, account_id, video_id)
    return await repository.tracks_of(session, video.id)


async def upload_track(
    session: AsyncSession,
    storage: Storage,
    account_id: str,
    video_id: str,
    language: str,
    data: bytes,
) -> SubtitleTrack:
    """Your own file (WebVTT or SRT), checked whole before anything is kept; stored in both."""
    video = await videos.get_video(session, account_id, video_id)
    cues = parse(data)
    await store_files(storage, account_id, video.id, language, cues)
    return await save_track(session, account_id, video.id, language, "uploaded")


async def delete_track(
    session: AsyncSession, storage: Storage, account_id: str, video_id: str, language: str
) -> None:
    video = await videos.get_video(session, account_id, video_id)
    if not await repository.delete_track(session, video.id, language):
        raise SubtitleTrackNotFound(f"Video {video_id} has no {language} subtitles.")
    await storage.delete_prefix(f"{video_prefix(account_id, video.id)}subtitles/{language}/")
