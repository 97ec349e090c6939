"""The video page's subtitles (list, upload, delete) and AI materials: a Generate button with
its price, the job's progress (htmx, while it runs), and what it made. Each request goes
through the material's own service, refusals included (402 credits, 422 no audio...)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.ai import pricing
from moviie.ai import service as ai
from moviie.ai.schemas import JobOut
from moviie.config import Settings
from moviie.dashboard.sessions import SignedIn
from moviie.dashboard.web import Browser, Changer, page, redirect, refusal
from moviie.db.models import Account
from moviie.dependencies import AppSettings, Uploads
from moviie.dubbing.schemas import DubRequest
from moviie.dubbing.service import request_dub
from moviie.ebook.schemas import EbookRequest
from moviie.ebook.service import request_ebook
from moviie.errors import MoviieError, ValidationFailed
from moviie.http.session import Session
from moviie.quiz.schemas import QuizRequest
from moviie.quiz.service import request_quiz
from moviie.reels.schemas import ReelsRequest
from moviie.reels.service import request_reels
from moviie.subtitles import service as subtitles
from moviie.subtitles.languages import CODE, normalize
from moviie.subtitles.schemas import SubtitlesRequest
from moviie.subtitles.views import track_view
from moviie.videos import service as videos

router = APIRouter(prefix="/dashboard/videos/{video_id}", include_in_schema=False)
MAX_SUBTITLE_BYTES = 1000 * 1000  # under the body limit the multipart form also counts
Requester = Callable[[AsyncSession, Settings, Account, str, Any], Awaitable[ai.Accepted]]
# name: (label, request model, service, what it makes)
MATERIALS: dict[str, tuple[str, type[BaseModel], Requester, str]] = {
    "subtitles": ("Subtitles", SubtitlesRequest, subtitles.request_subtitles,
                  "WebVTT and SRT from the speech"),
    "reels": ("Vertical reels", ReelsRequest, request_reels,
              "short vertical videos of its best moments"),
    "ebook": ("Ebook", EbookRequest, request_ebook, "an EPUB and a PDF, chapter by chapter"),
    "quiz": ("Quiz", QuizRequest, request_quiz, "questions, as GIFT and QTI"),
    "lipsync": ("Dub", DubRequest, request_dub, "the speech in another language"),
}  # fmt: skip
ACTIVE = ("queued", "running")


async def materials_context(
    session: AsyncSession, who: SignedIn, video_id: str, public_url: str
) -> dict[str, Any]:
    video = await videos.get_video(session, who.account.id, video_id)
    jobs, _ = await ai.list_jobs(session, who.account.id, video_id=video.id, job_type=None,
                                 status=None, limit=100, after_id=None)  # fmt: skip
    latest: dict[str, JobOut] = {}
    for job in jobs:  # newest first
        latest.setdefault(job.type, ai.job_view(job))
    tracks = await subtitles.list_tracks(session, who.account.id, video.id)
    return {
        "video_id": video.id,
        "ready": video.status == "ready",
        "materials": [
            {
                "name": name,
                "label": label,
                "makes": makes,
                "job": latest.get(name),
                "price": pricing.price(name, video.duration_s or 0.0),
            }
            for name, (label, _, _, makes) in MATERIALS.items()
        ],
        "active": any(j.status in ACTIVE for j in latest.values()),
        "tracks": [track_view(t, public_url) for t in tracks],
    }


@router.get("/materials", response_class=HTMLResponse)
async def materials(
    request: Request, video_id: str, session: Session, who: Browser, ctx: Uploads
) -> HTMLResponse:
    """The materials section alone, polled by htmx while a job runs."""
    context = await materials_context(session, who, video_id, ctx.public_url)
    return page(request, "materials.html", who=who, **context)


@router.post("/materials/{name}")
async def generate(
    request: Request,
    video_id: str,
    name: str,
    session: Session,
    who: Changer,
    settings: AppSettings,
    ctx: Uploads,
    target_language: Annotated[str, Form(max_length=16)] = "",
    questions: Annotated[int | None, Form(ge=1, le=50)] = None,
) -> Response:
    if name not in MATERIALS:
        return redirect(f"/dashboard/videos/{video_id}")
    _, model, requester, _ = MATERIALS[name]
    fields: dict[str, Any] = {}
    if name == "lipsync":
        fields["target_language"] = target_language
    if name == "quiz" and questions:
        fields["questions"] = questions
    try:
        await requester(session, settings, who.account, video_id, model.model_validate(fields))
    except (ValidationError, MoviieError) as refused:
        await session.rollback()  # nothing of a refused form is kept
        message = refusal(refused)
        context = await materials_context(session, who, video_id, ctx.public_url)
        return page(request, "materials.html", status=422, who=who, error=message, **context)
    return redirect(f"/dashboard/videos/{video_id}#materials")


@router.post("/subtitles")
async def upload_subtitles(
    request: Request,
    video_id: str,
    session: Session,
    who: Changer,
    ctx: Uploads,
    language: Annotated[str, Form(min_length=2, max_length=16)],
    file: Annotated[UploadFile, File()],
) -> Response:
    data = await file.read(MAX_SUBTITLE_BYTES + 1)
    code = normalize(language)
    try:
        if not CODE.match(code):  # the API's own rule for a track's language
            raise ValidationFailed("A language code such as `en`, `fr` or `pt-br`.")
        if len(data) > MAX_SUBTITLE_BYTES:
            raise ValidationFailed("Subtitle files may be at most 1 MB.")
        await subtitles.upload_track(session, ctx.storage, who.account.id, video_id, code, data)
    except MoviieError as refused:
        await session.rollback()  # nothing of a refused form is kept
        context = await materials_context(session, who, video_id, ctx.public_url)
        return page(request, "materials.html", status=422, who=who, error=refused.detail,
                    **context)  # fmt: skip
    return redirect(f"/dashboard/videos/{video_id}#subtitles")


@router.post("/subtitles/{language}/delete")
async def delete_subtitles(
    video_id: str, language: str, session: Session, who: Changer, ctx: Uploads
) -> Response:
    await subtitles.delete_track(session, ctx.storage, who.account.id, video_id, language)
    return redirect(f"/dashboard/videos/{video_id}#subtitles")
