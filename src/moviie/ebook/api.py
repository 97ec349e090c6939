from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Response

from moviie.ai import service as ai
from moviie.ai.schemas import JobOut
from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.dependencies import AppSettings
from moviie.ebook import service
from moviie.ebook.schemas import EbookRequest
from moviie.http.routing import moviie_router
from moviie.http.session import Session

router = moviie_router(tags=["Ebook"])
Maker = Annotated[ApiCaller, Depends(require_scope("ai:write", ai=True))]
Reader = Annotated[ApiCaller, Depends(require_scope("videos:read"))]
VideoId = Annotated[str, Path(max_length=64, examples=["vid_01jeq3v5m3f6a9b1c2d3e4f5g6"])]

_ACCEPTED: dict[int | str, dict[str, Any]] = {
    200: {"model": JobOut, "description": "An identical job is already queued or running: it."},
    402: {"description": "Not enough credits (`insufficient_credits`, with the shortfall)."},
    409: {"description": "The video is not ready (`video_not_ready`)."},
    422: {"description": "`no_audio` or `language_unavailable`."},
}


@router.post(
    "/v1/videos/{video_id}/ebook",
    status_code=202,
    summary="Write an ebook (EPUB and PDF) from what the video teaches (a job)",
    responses=_ACCEPTED,
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
    if not accepted.created:
        response.status_code = 200
    return ai.job_view(accepted.job)


@router.get("/v1/videos/{video_id}/ebook", summary="The video's newest ebook (its job)")
async def get_ebook(video_id: VideoId, session: Session, caller: Reader) -> JobOut:
    return ai.job_view(await service.latest_ebook(session, caller.account_id, video_id))
