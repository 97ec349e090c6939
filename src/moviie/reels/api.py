from __future__ import annotations

from fastapi import Response

from moviie.ai.endpoints import Maker, Reader, VideoId, accepted_responses, job_answer
from moviie.ai.schemas import JobOut
from moviie.dependencies import AppSettings
from moviie.http.routing import moviie_router
from moviie.http.session import Session
from moviie.reels import service
from moviie.reels.schemas import ReelsRequest
from moviie.videos import service as videos
from moviie.videos.schemas import VideoList

router = moviie_router(tags=["Reels"])


@router.post(
    "/v1/videos/{video_id}/reels",
    status_code=202,
    summary="Cut vertical reels from a talk (a job)",
    responses=accepted_responses("`video_too_short`, `no_audio` or `language_unavailable`."),
)
async def request_reels(
    video_id: VideoId,
    body: ReelsRequest,
    response: Response,
    session: Session,
    caller: Maker,
    settings: AppSettings,
) -> JobOut:
    accepted = await service.request_reels(session, settings, caller.account, video_id, body)
    return job_answer(accepted, response)


@router.get("/v1/videos/{video_id}/reels", summary="The reels cut from a video")
async def list_reels(
    video_id: VideoId, session: Session, caller: Reader, settings: AppSettings
) -> VideoList:
    reels = await service.reels_of(session, caller.account_id, video_id)
    return VideoList(data=await videos.views(session, reels, settings.resolved_public_url))
