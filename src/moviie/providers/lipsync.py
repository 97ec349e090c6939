"""The lip-sync provider (`MOVIIE_LIPSYNC_URL`): the video and the dubbed audio in, the video
with the mouths moved to the new words out.

Its HTTP shape: `POST <MOVIIE_LIPSYNC_URL>`, multipart `video` (MP4), `audio` (M4A/AAC) and
`language`, Bearer `MOVIIE_LIPSYNC_API_KEY`. Either 200 with the MP4 (`video/mp4`), or 202 with
a `Location` to poll: `GET` it answers 202 (with `Retry-After`) while working, then 200 with
the MP4. Anything else, once the retries are spent, fails the job (refunded)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import httpx

from moviie.config import Settings
from moviie.providers.http import (
    LONGEST_WAIT_S,
    ProviderFailed,
    call,
    provider_client,
    retry_after_s,
)

FAILED = "lipsync_failed"
WHAT = "lip-sync provider"
POLL_S = 5.0


async def lip_sync(settings: Settings, video: Path, audio: Path, language: str, out: Path) -> None:
    assert settings.lipsync_url is not None
    deadline = time.monotonic() + settings.lipsync_timeout_s
    async with provider_client(
        settings.lipsync_url, settings.lipsync_api_key, settings.provider_timeout_s
    ) as client:

        def files(stack: contextlib.ExitStack) -> dict[str, Any]:  # streamed, not read whole
            return {
                "video": ("video.mp4", stack.enter_context(video.open("rb")), "video/mp4"),
                "audio": ("audio.m4a", stack.enter_context(audio.open("rb")), "audio/mp4"),
            }

        response = await call(
            client,
            "POST",
            settings.lipsync_url,  # as given (a base URL would gain a trailing slash)
            code=FAILED,
            what=WHAT,
            attempts=settings.provider_attempts,
            data={"language": language},
            files=files,
        )
        while response.status_code == 202:
            location = response.headers.get("location")
            if not location:
                raise ProviderFailed(
                    FAILED, "The lip-sync provider answered 202 without a Location."
                )
            if time.monotonic() > deadline:
                raise ProviderFailed(FAILED, "The lip-sync provider did not finish in time.")
            asked = retry_after_s(response)
            await asyncio.sleep(min(POLL_S if asked is None else asked, LONGEST_WAIT_S))
            url = str(response.url.join(location))
            response = await call(
                client, "GET", url, code=FAILED, what=WHAT, attempts=settings.provider_attempts
            )
        await _save(response, out)


async def _save(response: httpx.Response, out: Path) -> None:
    if not response.content[4:8] == b"ftyp":
        raise ProviderFailed(FAILED, "The lip-sync provider's answer is not an MP4 video.")
    await asyncio.to_thread(out.write_bytes, response.content)
