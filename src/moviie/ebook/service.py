"""Asking for an ebook (refused up front when the video has no sound) and reading the newest."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.ai import pricing
from moviie.ai import service as ai
from moviie.config import Settings
from moviie.db.models import Account, Job
from moviie.ebook.schemas import EbookRequest
from moviie.errors import NotFound
from moviie.subtitles.service import NoAudio, spoken_language


class EbookNotFound(NotFound):
    code = "ebook_not_found"


async def request_ebook(
    session: AsyncSession, settings: Settings, account: Account, video_id: str, body: EbookRequest
) -> ai.Accepted:
    video = await ai.ready_video(session, account.id, video_id)
    if video.has_audio is False:
        raise NoAudio("An ebook is written from what the video says: it has no sound.")
    language = spoken_language(settings, body.language)
    params = body.model_dump() | {
        "language": language,
        "formats": sorted(set(body.formats)),
        "title": body.title or video.title or "Untitled video",
    }
    price = pricing.price("ebook", video.duration_s or 0.0)
    return await ai.accept_job(session, account, video, "ebook", params, price)


async def latest_ebook(session: AsyncSession, account_id: str, video_id: str) -> Job:
    missing = EbookNotFound(f"Video {video_id} has no ebook yet: POST one.")
    return await ai.latest_job(session, account_id, video_id, "ebook", missing)
