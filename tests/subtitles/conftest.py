from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from tests.media.clips import video
from tests.subtitles.speech import Speech, speech_video


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    return speech_video(tmp_path_factory.mktemp("speech"))


@pytest.fixture(scope="session")
def silent_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return video(tmp_path_factory.mktemp("silent") / "silent.mp4", audio=False)


@pytest_asyncio.fixture
async def ai_client(app_with_workers: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_with_workers)
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        yield client
