"""Import from a URL (as Mux and Cloudflare Stream offer): the file is fetched by a job, through
the same guard as webhooks, within the per-file limit and a time limit."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from dbos import DBOS
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Video
from moviie.errors import MoviieError
from moviie.jobs.runtime import runtime
from moviie.net.guard import check_url_target, guarded_client
from moviie.uploads.service import UploadContext, store_source
from moviie.uploads.staging import StagedFile, StagingArea
from moviie.videos import repository as video_repository
from moviie.videos import service as videos
from moviie.videos.schemas import VideoFromUrl


async def import_from_url(
    session: AsyncSession, ctx: UploadContext, account_id: str, body: VideoFromUrl
) -> Video:
    url = str(body.url)
    settings = ctx.settings
    await check_url_target(
        url, allow_private=settings.ingest_allow_private or settings.webhooks_allow_private
    )
    video = await videos.create_video(
        session,
        account_id,
        body,
        status="uploading",
        public_url=ctx.public_url,
        source_filename=httpx.URL(url).path.rsplit("/", 1)[-1] or None,
        source_url=url,
    )
    await ctx.jobs.enqueue_in(
        session, "media", ingest_video_from_url, video.id, url, job_id=f"ingest-{video.id}"
    )
    return video


class DownloadRefused(Exception):
    """A failure that retrying cannot fix (4xx, too large, not a public address)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def _download(url: str, staged: StagedFile, max_bytes: int, deadline: float) -> str | None:
    settings = runtime().settings
    allow_private = settings.ingest_allow_private or settings.webhooks_allow_private
    async with (
        guarded_client(allow_private=allow_private, timeout=30) as client,
        client.stream("GET", url) as response,
    ):
        if 400 <= response.status_code < 500 or 300 <= response.status_code < 400:
            raise DownloadRefused("download_failed", f"The URL answered {response.status_code}.")
        response.raise_for_status()  # 5xx: transient, retried
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise DownloadRefused("file_too_large", f"The file is over {max_bytes} bytes.")
        async for chunk in response.aiter_bytes(1024 * 1024):
            await staged.write(chunk)
            if staged.size > max_bytes:
                raise DownloadRefused("file_too_large", f"The file is over {max_bytes} bytes.")
            if time.monotonic() > deadline:
                raise DownloadRefused("download_timeout", "The download took too long.")
        content_type: str | None = response.headers.get("content-type")
        return content_type


@DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=2.0, backoff_rate=3.0)
async def fetch_source(video_id: str, url: str) -> dict[str, Any]:
    """Download to the staging area; a refusal is a result, a transient error is retried."""
    rt = runtime()
    staging = StagingArea.for_data_dir(rt.settings.data_dir)
    staged = await StagedFile(staging.root / f"ingest-{video_id}.part").open()
    deadline = time.monotonic() + rt.settings.ingest_timeout_s
    try:
        content_type = await _download(url, staged, rt.settings.max_upload_bytes, deadline)
        await staged.close()
    except DownloadRefused as refused:
        await staged.discard()
        return {"ok": False, "code": refused.code, "message": refused.message}
    except BaseException:
        await staged.discard()
        raise
    return {"ok": True, "path": str(staged.path), "size": staged.size, "content_type": content_type}


@DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=2.0)
async def store_fetched(video_id: str, fetched: dict[str, Any]) -> str:
    """Idempotent: a run after a crash that followed our commit finds the video past `uploading`
    and does nothing."""
    rt = runtime()
    ctx = UploadContext.build(rt.settings, rt.storage, rt.jobs)
    async with rt.db.transaction() as session:
        video = await video_repository.get_live(session, video_id)
        if video is None:
            await asyncio.to_thread(Path(fetched["path"]).unlink, True)
            return "deleted"
        if video.status != "uploading":
            return "stored"
        if not await asyncio.to_thread(Path(fetched["path"]).exists):
            # another worker took the job over and the download stayed on the first one's disk
            raise FileNotFoundError("the fetched file is not on this worker")
        try:
            await store_source(
                session,
                ctx,
                video,
                Path(fetched["path"]),
                int(fetched["size"]),
                filename=video.source_filename,
                content_type=fetched.get("content_type"),
            )
        except MoviieError as error:  # empty file, over quota: the video fails, for good
            await videos.fail_video(session, video, error.code, error.detail, ctx.public_url)
    return "stored"


@DBOS.step()
async def fail_import(video_id: str, code: str, message: str) -> None:
    rt = runtime()
    async with rt.db.transaction() as session:
        video = await video_repository.get_live(session, video_id)
        if video is not None and video.status == "uploading":
            await videos.fail_video(session, video, code, message, rt.settings.resolved_public_url)


@DBOS.workflow()
async def ingest_video_from_url(video_id: str, url: str) -> str:
    try:
        fetched = await fetch_source(video_id, url)
    except Exception:  # retries spent on a transient error: now it is confirmed
        await fail_import(video_id, "download_failed", "The download kept failing.")
        return "failed"
    if not fetched["ok"]:
        await fail_import(video_id, fetched["code"], fetched["message"])
        return "failed"
    try:
        return await store_fetched(video_id, fetched)
    except Exception:  # retries spent: the failure is confirmed
        await fail_import(video_id, "import_failed", "The fetched file could not be stored.")
        return "failed"
