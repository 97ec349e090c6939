from __future__ import annotations

from fastapi import Response

from moviie.ai.endpoints import Maker, Reader, VideoId, accepted_responses, job_answer
from moviie.ai.schemas import JobOut
from moviie.dependencies import AppSettings
from moviie.dubbing import service
from moviie.dubbing.schemas import DubList, DubRequest
from moviie.dubbing.views import dub_view
from moviie.http.routing import moviie_router
from moviie.http.session import Session

router = moviie_router(tags=["Dubbing"])


@router.post(
    "/v1/videos/{video_id}/lipsync",
    status_code=202,
    summary="Dub the video into another language (a job)",
    responses=accepted_responses(
        "`no_audio`, `same_language`, `language_unavailable`, `translation_unavailable`, "
        "`voice_unavailable`, `voice_clone_unavailable` or `lipsync_unavailable`."
    ),
)
async def request_dub(
    video_id: VideoId,
    body: DubRequest,
    response: Response,
    session: Session,
    caller: Maker,
    settings: AppSettings,
) -> JobOut:
    accepted = await service.request_dub(session, settings, caller.account, video_id, body)
    return job_answer(accepted, response)


@router.get("/v1/videos/{video_id}/lipsync", summary="The video's dubs, one per language")
async def list_dubs(
    video_id: VideoId, session: Session, caller: Reader, settings: AppSettings
) -> DubList:
    dubs, synced = await service.list_dubs(session, caller.account_id, video_id)
    public = settings.resolved_public_url
    return DubList(data=[dub_view(d, synced.get(d.lipsync_video_id or ""), public) for d in dubs])
