"""Asking for a dub: refused up front, nothing charged, when it could not succeed here (no
sound, the same language, nothing to translate the pair with, no voice for the language, a
voice clone or a lip sync without its provider); and listing a video's dubs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.ai import pricing
from moviie.ai import repository as ai_repository
from moviie.ai import service as ai
from moviie.config import Settings
from moviie.db.models import Account, Dub, Video
from moviie.dubbing import repository
from moviie.dubbing.schemas import DubRequest
from moviie.dubbing.translation import translator_for
from moviie.dubbing.voices import offline_voice
from moviie.errors import ValidationFailed
from moviie.subtitles.service import NoAudio, TranslationUnavailable, spoken_language
from moviie.videos import service as videos


class SameLanguage(ValidationFailed):
    code = "same_language"
    title = "The video already speaks that language"


class VoiceUnavailable(ValidationFailed):
    code = "voice_unavailable"
    title = "No voice here speaks that language"


class VoiceCloneUnavailable(ValidationFailed):
    code = "voice_clone_unavailable"
    title = "Voice cloning needs a speech provider (MOVIIE_TTS_BASE_URL)"


class LipsyncUnavailable(ValidationFailed):
    code = "lipsync_unavailable"
    title = "Lip sync needs a lip-sync provider (MOVIIE_LIPSYNC_URL)"


async def request_dub(
    session: AsyncSession, settings: Settings, account: Account, video_id: str, body: DubRequest
) -> ai.Accepted:
    video = await ai.ready_video(session, account.id, video_id)
    if video.has_audio is False:
        raise NoAudio("A dub replaces what the video says: it has no sound.")
    source = spoken_language(settings, body.language) or await _known_language(session, video)
    target = body.target_language
    if source is not None and source.split("-")[0] == target.split("-")[0]:
        raise SameLanguage(f"The video speaks {source} already.", param="target_language")
    if translator_for(settings, source, target) is None:
        raise TranslationUnavailable(
            f"Nothing here translates {source or 'this video'} into {target}: set "
            "MOVIIE_LLM_BASE_URL, or install the Apertium pair (e.g. apertium-eng-spa).",
            param="target_language",
        )
    if body.voice_clone and not settings.tts_base_url:
        raise VoiceCloneUnavailable(
            "Set MOVIIE_TTS_BASE_URL to dub in the speaker's own voice.", param="voice_clone"
        )
    if not body.voice_clone and offline_voice(target) is None:
        raise VoiceUnavailable(
            f"No offline voice speaks {target} (espeak-ng knows many languages).",
            param="target_language",
        )
    if body.lipsync and not settings.lipsync_url:
        raise LipsyncUnavailable("Set MOVIIE_LIPSYNC_URL to lip-sync dubs.", param="lipsync")
    if body.lipsync and video.audio_only:
        raise LipsyncUnavailable("The video has no picture to lip-sync.", param="lipsync")
    params = body.model_dump() | {"language": source}
    price = pricing.price("lipsync", video.duration_s or 0.0)
    return await ai.accept_job(session, account, video, "lipsync", params, price)


async def _known_language(session: AsyncSession, video: Video) -> str | None:
    """The language a subtitles job heard the video speak, if one did."""
    job = await ai_repository.latest_succeeded(session, video.id, "subtitles")
    return str(job.result["language"]) if job and job.result else None


async def list_dubs(
    session: AsyncSession, account_id: str, video_id: str
) -> tuple[Sequence[Dub], dict[str, Video]]:
    """The video's dubs and the lip-synced videos made of them."""
    video = await videos.get_video(session, account_id, video_id)
    dubs = await repository.dubs_of(session, video.id)
    synced: dict[str, Video] = {}
    for dub in dubs:
        if dub.lipsync_video_id:
            made = await session.get(Video, dub.lipsync_video_id)
            if made is not None and made.deleted_at is None:
                synced[made.id] = made
    return dubs, synced
