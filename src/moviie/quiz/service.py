"""Asking for a quiz: refused up front (nothing charged) when the video says too little, as far
as can be told before transcribing it (no sound; or its transcript, when one was made, too
short for the questions asked). A video found to say too little only once transcribed fails its
job, refunded."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.ai import pricing
from moviie.ai import service as ai
from moviie.config import Settings
from moviie.db.models import Account, Job
from moviie.errors import NotFound, ValidationFailed
from moviie.quiz.schemas import QuizRequest
from moviie.subtitles import whisper
from moviie.subtitles.service import LanguageUnavailable, NoAudio
from moviie.videos import service as videos

WORDS_PER_QUESTION = 15


class TooLittleSpeech(ValidationFailed):
    code = "too_little_speech"
    title = "The video says too little for that many questions"


class QuizNotFound(NotFound):
    code = "quiz_not_found"


async def request_quiz(
    session: AsyncSession, settings: Settings, account: Account, video_id: str, body: QuizRequest
) -> ai.Accepted:
    video = await ai.ready_video(session, account.id, video_id)
    if video.has_audio is False:
        raise NoAudio("A quiz is made from what the video says: it has no sound.")
    available = whisper.languages_available(settings)
    language = body.language or (None if len(available) > 1 else "en")
    if language is not None and language not in available:
        raise LanguageUnavailable(f"{language!r} cannot be transcribed here.", param="language")
    spoken = await _spoken_words(session, video.id)
    needed = body.questions * WORDS_PER_QUESTION
    if spoken is not None and spoken < needed:
        raise TooLittleSpeech(
            f"The video says {spoken} words; {body.questions} questions need about {needed}.",
            param="questions",
            words=spoken,
        )
    params = body.model_dump() | {"language": language}
    price = pricing.price("quiz", video.duration_s or 0.0)
    return await ai.accept_job(session, account, video, "quiz", params, price)


async def _spoken_words(session: AsyncSession, video_id: str) -> int | None:
    """Words in the video's newest transcript, if a subtitles job made one."""
    stmt = (
        select(Job.result)
        .where(Job.video_id == video_id, Job.type == "subtitles", Job.status == "succeeded")
        .order_by(Job.id.desc())
        .limit(1)
    )
    result = (await session.execute(stmt)).scalar_one_or_none()
    if not result or "transcript" not in result:
        return None
    return len(result["transcript"]["words"])


async def latest_quiz(session: AsyncSession, account_id: str, video_id: str) -> Job:
    video = await videos.get_video(session, account_id, video_id)
    stmt = (
        select(Job)
        .where(Job.video_id == video.id, Job.type == "quiz", Job.status == "succeeded")
        .order_by(Job.id.desc())
        .limit(1)
    )
    job = (await session.scalars(stmt)).one_or_none()
    if job is None:
        raise QuizNotFound(f"Video {video_id} has no quiz yet: POST one.")
    return job
