from __future__ import annotations

from fastapi import Response

from moviie.ai import service as ai
from moviie.ai.endpoints import Maker, Reader, VideoId, accepted_responses, job_answer
from moviie.ai.schemas import JobOut
from moviie.dependencies import AppSettings
from moviie.http.routing import moviie_router
from moviie.http.session import Session
from moviie.quiz import service
from moviie.quiz.schemas import QuizRequest

router = moviie_router(tags=["Quiz"])


@router.post(
    "/v1/videos/{video_id}/quiz",
    status_code=202,
    summary="Make a quiz from what the video teaches (a job)",
    responses=accepted_responses("`too_little_speech`, `no_audio` or `language_unavailable`."),
)
async def request_quiz(
    video_id: VideoId,
    body: QuizRequest,
    response: Response,
    session: Session,
    caller: Maker,
    settings: AppSettings,
) -> JobOut:
    accepted = await service.request_quiz(session, settings, caller.account, video_id, body)
    return job_answer(accepted, response)


@router.get("/v1/videos/{video_id}/quiz", summary="The video's newest quiz (its job)")
async def get_quiz(video_id: VideoId, session: Session, caller: Reader) -> JobOut:
    return ai.job_view(await service.latest_quiz(session, caller.account_id, video_id))
