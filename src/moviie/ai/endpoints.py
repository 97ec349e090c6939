"""What every material's endpoints share: who may call them, the job they answer with (202
new, 200 the identical one in progress), and the errors they document."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Response

from moviie.ai import service
from moviie.ai.schemas import JobOut
from moviie.auth.dependencies import ApiCaller, require_scope

Maker = Annotated[ApiCaller, Depends(require_scope("ai:write", ai=True))]
Reader = Annotated[ApiCaller, Depends(require_scope("videos:read"))]
VideoId = Annotated[str, Path(max_length=64, examples=["vid_01jeq3v5m3f6a9b1c2d3e4f5g6"])]


def accepted_responses(refusals: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses of a material's POST; `refusals` names its 422 codes."""
    return {
        200: {"model": JobOut, "description": "An identical job is already queued or running: it."},
        402: {"description": "Not enough credits (`insufficient_credits`, with the shortfall)."},
        409: {"description": "The video is not ready (`video_not_ready`)."},
        422: {"description": refusals},
    }


def job_answer(accepted: service.Accepted, response: Response) -> JobOut:
    if not accepted.created:
        response.status_code = 200
    return service.job_view(accepted.job)
