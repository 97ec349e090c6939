"""Asking for a quiz: refused up front (nothing charged) when the video says too little, as far
as can be told before transcribing it (no sound; or its transcript, when one was made, too
short for the questions asked). A video found to say too little only once transcribed fails its
job, refunded."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.ai import pricing
from moviie.ai import repository as ai_repository
from moviie.ai import service as ai
from moviie.config import Settings
from moviie.db.models import Account, Job
from moviie.errors import NotFound, ValidationFailed
from moviie.quiz.schemas import QuizRequest
from moviie.subtitles.service import NoAudio, spoken_language

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
    language = spoken_language(settings, body.language)
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
    job = await ai_repository.latest_succeeded(session, video_id, "subtitles")
    if job is None or not job.result or "transcript" not in job.result:
        return None
    return len(job.result["transcript"]["words"])


async def latest_quiz(session: AsyncSession, account_id: str, video_id: str) -> Job:
    missing = QuizNotFound(f"Video {video_id} has no quiz yet: POST one.")
    return await ai.latest_job(session, account_id, video_id, "quiz", missing)
