"""The ASGI application: routers, middleware and the parts they share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from moviie import __version__
from moviie.accounts.api import router as accounts_router
from moviie.ai.api import router as jobs_router
from moviie.analytics.api import OpenToAnyOrigin
from moviie.analytics.api import router as analytics_router
from moviie.api_keys.api import router as api_keys_router
from moviie.auth.last_used import LastUsedRecorder
from moviie.collections.api import router as collections_router
from moviie.config import Settings
from moviie.credits.api import router as credits_router
from moviie.dashboard.api import install as install_dashboard
from moviie.db.engine import Database
from moviie.dubbing.api import router as dubbing_router
from moviie.ebook.api import router as ebook_router
from moviie.http.idempotency import IdempotencyMiddleware
from moviie.http.middleware import BodyLimitMiddleware, RequestContextMiddleware
from moviie.http.openapi import build_openapi
from moviie.http.problems import install_problem_handlers
from moviie.http.ratelimit import RateLimiter
from moviie.http.session import Session
from moviie.jobs.client import shared_job_client
from moviie.media.api import router as media_router
from moviie.plans.catalog import load_plans
from moviie.playback.api import router as signing_keys_router
from moviie.quiz.api import router as quiz_router
from moviie.reels.api import router as reels_router
from moviie.storage.factory import open_storage
from moviie.subtitles.api import router as subtitles_router
from moviie.uploads.api import router as uploads_router
from moviie.uploads.service import UploadContext
from moviie.usage.meter import BandwidthMeter
from moviie.videos.api import router as videos_router
from moviie.webhooks.api import router as webhooks_router
from moviie.worker import WorkerProcess

STATIC_DIR = Path(__file__).parent / "static"
DESCRIPTION = """Upload videos, stream them adaptively, generate AI materials, and hear about it
by signed webhooks. Errors are `application/problem+json` with a stable `code`."""


def _streams_its_own_body(method: str, path: str) -> bool:
    """Uploads stream to disk under their own limits; every other body is capped."""
    return (method == "POST" and path == "/v1/videos") or path.startswith("/uploads/")


def create_app(settings: Settings | None = None, worker_queues: Sequence[str] = ()) -> FastAPI:
    """The API; with `worker_queues`, this process also runs those queues' jobs (`moviie serve`)."""
    settings = settings or Settings()
    load_plans(settings.plans_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(settings.resolved_database_url)
        app.state.last_used = LastUsedRecorder(app.state.db)
        app.state.bandwidth = BandwidthMeter(app.state.db)
        app.state.bandwidth.start()
        app.state.jobs = shared_job_client(settings.resolved_database_url)
        storage = open_storage(settings)
        app.state.uploads = UploadContext.build(settings, storage, app.state.jobs)
        worker = (
            WorkerProcess(settings, worker_queues, db=app.state.db, storage=storage)
            if worker_queues
            else None
        )
        if worker is not None:
            await worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await app.state.last_used.close()
            await app.state.bandwidth.close()
            await storage.close()
            await app.state.db.dispose()

    app = FastAPI(
        title="Moviie API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url=None,  # served below from our own copy of Swagger UI: no CDN at run time
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.redis_url)
    install_problem_handlers(app)

    app.include_router(accounts_router)
    app.include_router(api_keys_router)
    app.include_router(videos_router)
    app.include_router(collections_router)
    app.include_router(uploads_router)
    app.include_router(signing_keys_router)
    app.include_router(media_router)
    app.include_router(webhooks_router)
    app.include_router(subtitles_router)
    app.include_router(reels_router)
    app.include_router(quiz_router)
    app.include_router(dubbing_router)
    app.include_router(analytics_router)
    install_dashboard(app)
    app.include_router(ebook_router)
    app.include_router(jobs_router)
    app.include_router(credits_router)

    # Scripts, styles, players: compressed on the way (media under /media never are: ranges).
    app.mount(
        "/static", GZipMiddleware(StaticFiles(directory=STATIC_DIR), minimum_size=1024), "static"
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/v1/openapi.json",
            title="Moviie API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="",
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz(session: Session) -> JSONResponse:
        await session.connection()
        return JSONResponse({"status": "ok"})

    def openapi() -> dict[str, Any]:
        return build_openapi(app)

    app.openapi = openapi  # type: ignore[method-assign]

    # Outermost first: ids and last-resort errors, then the body cap, then idempotency.
    app.add_middleware(
        IdempotencyMiddleware,
        ttl_s=settings.idempotency_ttl_s,
        max_body_bytes=settings.max_body_bytes,
    )
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, exempt=_streams_its_own_body
    )
    app.add_middleware(OpenToAnyOrigin)  # the player-events route: CORS on every answer
    app.add_middleware(RequestContextMiddleware)
    return app
