from __future__ import annotations

from fastapi import Response

from moviie.ai import service as ai
from moviie.ai.endpoints import Maker, Reader, VideoId, accepted_responses, job_answer
from moviie.ai.schemas import JobOut
from moviie.dependencies import AppSettings
from moviie.ebook import service
from moviie.ebook.schemas import EbookRequest
from moviie.http.routing import moviie_router
from moviie.http.session import Session

router = moviie_router(tags=["Ebook"])


@router.post(
    "/v1/videos/{video_id}/ebook",
    status_code=202,
    summary="Write an ebook (EPUB and PDF) from what the video teaches (a job)",
    responses=accepted_responses("`no_audio` or `language_unavailable`."),
)
async def request_ebook(
    video_id: VideoId,
    body: EbookRequest,
    response: Response,
    session: Session,
    caller: Maker,
    settings: AppSettings,
) -> JobOut:
    accepted = await service.request_ebook(session, settings, caller.account, video_id, body)
    return job_answer(accepted, response)


@router.get("/v1/videos/{video_id}/ebook", summary="The video's newest ebook (its job)")
async def get_ebook(video_id: VideoId, session: Session, caller: Reader) -> JobOut:
    return ai.job_view(await service.latest_ebook(session, caller.account_id, video_id))
