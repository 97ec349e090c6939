"""Per-process parts the routes share (settings, jobs, uploads), as dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from moviie.config import Settings
from moviie.jobs.client import JobClient
from moviie.uploads.service import UploadContext


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_jobs(request: Request) -> JobClient:
    jobs: JobClient = request.app.state.jobs
    return jobs


def get_upload_context(request: Request) -> UploadContext:
    context: UploadContext = request.app.state.uploads
    return context


AppSettings = Annotated[Settings, Depends(get_settings)]
Jobs = Annotated[JobClient, Depends(get_jobs)]
Uploads = Annotated[UploadContext, Depends(get_upload_context)]
