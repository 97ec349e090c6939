from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from moviie.ai import service
from moviie.ai.schemas import JobOut, JobStatus, MaterialType
from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.http.pagination import Page, Pagination, page_of
from moviie.http.routing import moviie_router
from moviie.http.session import Session

router = moviie_router(tags=["Jobs"])
Reader = Annotated[ApiCaller, Depends(require_scope("videos:read"))]
JobId = Annotated[str, Path(max_length=64, examples=["job_01jeq3v5m3f6a9b1c2d3e4f5g6"])]


@router.get("/v1/jobs/{job_id}", summary="One AI job: status, progress, result or error")
async def get_job(job_id: JobId, session: Session, caller: Reader) -> JobOut:
    return service.job_view(await service.get_job(session, caller.account_id, job_id))


@router.get("/v1/jobs", summary="The account's AI jobs, newest first")
async def list_jobs(
    session: Session,
    caller: Reader,
    page: Pagination,
    video_id: Annotated[str | None, Query(max_length=64)] = None,
    type: Annotated[MaterialType | None, Query()] = None,
    status: Annotated[JobStatus | None, Query()] = None,
) -> Page[JobOut]:
    rows, has_more = await service.list_jobs(
        session,
        caller.account_id,
        video_id=video_id,
        job_type=type,
        status=status,
        limit=page.limit,
        after_id=page.after_id,
    )
    return page_of([service.job_view(j) for j in rows], has_more, rows[-1].id if rows else None)
