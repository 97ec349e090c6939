"""Accepting an AI job: one transaction makes the job, debits its price and enqueues it; an
identical request while one is queued or running gets that one (the database decides: a unique
index over the fingerprint of active jobs), charged nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.accounts.quotas import ensure_trial_active
from moviie.ai import repository
from moviie.ai.schemas import JobCredits, JobError, JobOut
from moviie.credits import service as credits
from moviie.db.models import Account, Job, Video
from moviie.db.types import utcnow
from moviie.errors import NotFound
from moviie.ids import new_id
from moviie.jobs.client import job_client_for
from moviie.videos import service as videos
from moviie.videos.errors import VideoNotReady

# The runner's registered name (ai/tasks.py asserts it): the API enqueues without importing the
# job engine's workflows.
RUN_AI_JOB = "run_ai_job"


class JobNotFound(NotFound):
    code = "job_not_found"


@dataclass(frozen=True)
class Accepted:
    job: Job
    created: bool  # False: an identical job was already queued or running


def fingerprint(video_id: str, material: str, params: dict[str, Any]) -> str:
    canonical = json.dumps([video_id, material, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def ready_video(session: AsyncSession, account_id: str, video_id: str) -> Video:
    video = await videos.get_video(session, account_id, video_id)
    if video.status != "ready":
        raise VideoNotReady(f"Video {video_id} is {video.status}; AI materials need it ready.")
    return video


async def accept_job(
    session: AsyncSession,
    account: Account,
    video: Video,
    material: str,
    params: dict[str, Any],
    price: int,
) -> Accepted:
    """`params` must be normalized (defaults filled in, case folded): they are fingerprinted."""
    ensure_trial_active(account)
    print_ = fingerprint(video.id, material, params)
    existing = await repository.active_by_fingerprint(session, print_)
    if existing is not None:
        return Accepted(existing, created=False)
    now = utcnow()
    job = Job(
        id=new_id("job"),
        account_id=account.id,
        video_id=video.id,
        type=material,
        status="queued",
        progress=0.0,
        params=params,
        fingerprint=print_,
        active_fingerprint=print_,
        credits_charged=price,
        credits_refunded=0,
        created_at=now,
        updated_at=now,
    )
    try:
        # The job and its debit stand or fall together: a refused debit (402) leaves no job
        # behind, even for a caller that catches the refusal and commits (the dashboard).
        async with session.begin_nested():
            session.add(job)
            await session.flush()
            await credits.debit_for_job(session, account, job, price)
    except IntegrityError:  # an identical request committed its job meanwhile
        existing = await repository.active_by_fingerprint(session, print_)
        if existing is None:
            raise
        return Accepted(existing, created=False)
    await job_client_for(session).enqueue_in(session, "ai", RUN_AI_JOB, job.id, job_id=job.id)
    return Accepted(job, created=True)


async def latest_job(
    session: AsyncSession, account_id: str, video_id: str, material: str, missing: NotFound
) -> Job:
    """The video's newest succeeded job of `material` (its result is the material), else
    `missing` is raised."""
    video = await videos.get_video(session, account_id, video_id)
    job = await repository.latest_succeeded(session, video.id, material)
    if job is None:
        raise missing
    return job


async def get_job(session: AsyncSession, account_id: str, job_id: str) -> Job:
    job = await repository.get(session, account_id, job_id)
    if job is None:
        raise JobNotFound(f"No job {job_id}.")
    return job


async def list_jobs(
    session: AsyncSession,
    account_id: str,
    *,
    video_id: str | None,
    job_type: str | None,
    status: str | None,
    limit: int,
    after_id: str | None,
) -> tuple[Sequence[Job], bool]:
    return await repository.list_jobs(
        session,
        account_id,
        video_id=video_id,
        job_type=job_type,
        status=status,
        limit=limit,
        after_id=after_id,
    )


def job_view(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        type=job.type,
        video_id=job.video_id,
        status=job.status,
        progress=job.progress,
        credits=JobCredits(charged=job.credits_charged, refunded=job.credits_refunded),
        params=job.params,
        result=job.result,
        error=JobError(code=job.error_code, message=job.error_message or "")
        if job.error_code
        else None,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )
