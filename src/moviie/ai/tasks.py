"""The one runner of every AI job, on the `ai` queue: it marks the job running, runs the
material's steps, and ends the job: succeeded with its result and `<material>.ready`, or failed,
refunded in full (once) and `<material>.failed`. Failure is confirmed: the material's steps
retry on their own; only what is left after their retries fails the job."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dbos import DBOS
from sqlalchemy import or_, update

from moviie.ai.service import RUN_AI_JOB, job_view
from moviie.credits import service as credits
from moviie.db.models import Job
from moviie.db.types import utcnow
from moviie.events.service import emit_event
from moviie.jobs.runtime import runtime
from moviie.log import get_logger

PROGRESS_INTERVAL_S = 1.0
log = get_logger("moviie.ai")


@dataclass(frozen=True)
class JobContext:
    job_id: str
    account_id: str
    video_id: str
    params: dict[str, Any]


class MaterialFailed(Exception):
    """Raised by a material's workflow code (not inside a step) for a definitive failure."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code, self.message = code, message


Material = Callable[[JobContext], Awaitable[dict[str, Any]]]
MATERIALS: dict[str, Material] = {}


def material(name: str) -> Callable[[Material], Material]:
    """Register the workflow code of a material: it calls its steps and returns the result."""

    def register(fn: Material) -> Material:
        MATERIALS[name] = fn
        return fn

    return register


@DBOS.step()
async def begin_job(job_id: str) -> dict[str, Any] | None:
    """Running, or None when the job already ended (a replay after it finished)."""
    async with runtime().db.transaction() as session:
        job = await session.get(Job, job_id, with_for_update=True)
        if job is None or job.status in ("succeeded", "failed"):
            return None
        if job.status == "queued":
            job.status, job.started_at = "running", utcnow()
            job.updated_at = job.started_at
        return {
            "type": job.type,
            "account_id": job.account_id,
            "video_id": job.video_id,
            "params": job.params,
        }


@DBOS.step()
async def finish_job(job_id: str, result: dict[str, Any]) -> None:
    async with runtime().db.transaction() as session:
        job = await session.get(Job, job_id, with_for_update=True)
        if job is None or job.status in ("succeeded", "failed"):
            return
        now = utcnow()
        job.status, job.progress, job.result = "succeeded", 1.0, result
        job.finished_at = job.updated_at = now
        job.active_fingerprint = None
        await session.flush()
        await emit_event(
            session, job.account_id, f"{job.type}.ready", job_view(job).model_dump(mode="json")
        )


@DBOS.step()
async def fail_job(job_id: str, code: str, message: str) -> None:
    """Failed, refunded in full and announced, once: a replay finds it failed and stops."""
    async with runtime().db.transaction() as session:
        job = await session.get(Job, job_id, with_for_update=True)
        if job is None or job.status in ("succeeded", "failed"):
            return
        now = utcnow()
        job.status, job.error_code, job.error_message = "failed", code, message[:1000]
        job.finished_at = job.updated_at = now
        job.active_fingerprint = None
        job.credits_refunded += await credits.refund_job(session, job)
        await session.flush()
        log.warning("ai_job_failed", job_id=job.id, type=job.type, code=code)
        await emit_event(
            session, job.account_id, f"{job.type}.failed", job_view(job).model_dump(mode="json")
        )


@DBOS.workflow()
async def run_ai_job(job_id: str) -> str:
    begun = await begin_job(job_id)
    if begun is None:
        return "ended"
    context = JobContext(job_id, begun["account_id"], begun["video_id"], begun["params"])
    try:
        result = await MATERIALS[begun["type"]](context)
    except MaterialFailed as failed:
        await fail_job(job_id, failed.code, failed.message)
        return "failed"
    except Exception as exc:  # a step that kept failing after its retries: confirmed
        log.exception("ai_job_error", job_id=job_id)
        await fail_job(
            job_id, "job_failed", f"The job could not be completed ({type(exc).__name__})."
        )
        return "failed"
    await finish_job(job_id, result)
    return "succeeded"


assert run_ai_job.__qualname__ == RUN_AI_JOB  # the API enqueues it by this name


class JobProgress:
    """Writes a job's progress at most once a second, only forward (a retried step starts over
    without the job going back); a failed write is shrugged off (progress is for show)."""

    def __init__(self, job_id: str, start: float = 0.0, span: float = 1.0) -> None:
        self.job_id, self.start, self.span = job_id, start, span
        self._written_at = 0.0

    async def __call__(self, fraction: float, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._written_at < PROGRESS_INTERVAL_S:
            return
        self._written_at = now
        value = round(min(self.start + self.span * fraction, 0.99), 3)
        try:
            async with runtime().db.transaction() as session:
                await session.execute(
                    update(Job)
                    .where(Job.id == self.job_id, Job.status == "running")
                    .where(or_(Job.progress < value))
                    .values(progress=value)
                )
        except Exception:
            log.warning("job_progress_not_recorded", job_id=self.job_id, exc_info=True)
