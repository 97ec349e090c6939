from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Response

from moviie.ai.endpoints import Maker, Reader, VideoId, accepted_responses, job_answer
from moviie.ai.schemas import JobOut
from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.dependencies import AppSettings, Uploads
from moviie.http.routing import moviie_router
from moviie.http.session import Session
from moviie.subtitles import service
from moviie.subtitles.languages import CODE, normalize
from moviie.subtitles.schemas import SubtitlesRequest, SubtitleTrackOut, SubtitleTracksOut
from moviie.subtitles.views import track_view

router = moviie_router(tags=["Subtitles"])
Writer = Annotated[ApiCaller, Depends(require_scope("videos:write"))]
LanguageCode = Annotated[str, Path(max_length=16, pattern=CODE.pattern, examples=["en"])]

_SUBTITLE_FILE = {
    "requestBody": {
        "required": True,
        "content": {
            "text/vtt": {"schema": {"type": "string"}},
            "application/x-subrip": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/v1/videos/{video_id}/subtitles",
    status_code=202,
    summary="Generate subtitles (a job)",
    responses=accepted_responses(
        "`no_audio`, `language_unavailable` or `translation_unavailable`."
    ),
)
async def request_subtitles(
    video_id: VideoId,
    body: SubtitlesRequest,
    response: Response,
    session: Session,
    caller: Maker,
    settings: AppSettings,
) -> JobOut:
    accepted = await service.request_subtitles(session, settings, caller.account, video_id, body)
    return job_answer(accepted, response)


@router.get("/v1/videos/{video_id}/subtitles", summary="The video's subtitle tracks")
async def list_subtitles(
    video_id: VideoId, session: Session, caller: Reader, settings: AppSettings
) -> SubtitleTracksOut:
    tracks = await service.list_tracks(session, caller.account_id, video_id)
    public = settings.resolved_public_url
    return SubtitleTracksOut(data=[track_view(t, public) for t in tracks])


@router.put(
    "/v1/videos/{video_id}/subtitles/{language}",
    summary="Upload your own subtitles (WebVTT or SRT) for a language",
    openapi_extra=_SUBTITLE_FILE,
)
async def upload_subtitles(
    video_id: VideoId,
    language: LanguageCode,
    request: Request,
    session: Session,
    caller: Writer,
    settings: AppSettings,
    uploads: Uploads,
) -> SubtitleTrackOut:
    data = await request.body()
    track = await service.upload_track(
        session, uploads.storage, caller.account_id, video_id, normalize(language), data
    )
    return track_view(track, settings.resolved_public_url)


@router.delete(
    "/v1/videos/{video_id}/subtitles/{language}",
    status_code=204,
    summary="Remove a subtitle track",
)
async def delete_subtitles(
    video_id: VideoId, language: LanguageCode, session: Session, caller: Writer, uploads: Uploads
) -> Response:
    await service.delete_track(
        session, uploads.storage, caller.account_id, video_id, normalize(language)
    )
    return Response(status_code=204)
