"""The speech provider (`MOVIIE_TTS_BASE_URL`), for dubbing in the speaker's own voice.

Its HTTP shape (OpenAI's speech endpoint plus a voice-creation call, as ElevenLabs and most
self-hosted servers offer), relative to the base URL:
- `POST /voices`, multipart: `name` (text) and `file` (WAV, mono, 24 kHz: up to 60 s of the
  speaker alone, whole sentences) → 200/201 `{"id": "<voice>"}` (`voice_id` is also read).
- `POST /audio/speech`, JSON `{"model", "input", "voice", "response_format": "wav",
  "language"}` → 200 with the WAV bytes.
- `DELETE /voices/{id}` when the job is done with it (best effort).
Bearer `MOVIIE_TTS_API_KEY` on each."""

from __future__ import annotations

from pathlib import Path

import httpx

from moviie.config import Settings
from moviie.log import get_logger
from moviie.providers.http import ProviderFailed, call

FAILED = "speech_failed"
WHAT = "speech provider"
log = get_logger("moviie.providers")


async def create_voice(
    client: httpx.AsyncClient, settings: Settings, name: str, reference: Path
) -> str:
    response = await call(
        client,
        "POST",
        "/voices",
        code=FAILED,
        what=WHAT,
        attempts=settings.provider_attempts,
        data={"name": name},
        files=lambda stack: {
            "file": ("reference.wav", stack.enter_context(reference.open("rb")), "audio/wav")
        },
    )
    try:
        body = response.json()
        return str(body.get("id") or body["voice_id"])
    except (ValueError, KeyError, AttributeError) as exc:
        raise ProviderFailed(FAILED, "The speech provider made no voice (no `id`).") from exc


async def speak(
    client: httpx.AsyncClient, settings: Settings, text: str, voice: str, language: str
) -> bytes:
    """The text spoken, as WAV bytes."""
    response = await call(
        client,
        "POST",
        "/audio/speech",
        code=FAILED,
        what=WHAT,
        attempts=settings.provider_attempts,
        json={
            "model": settings.tts_model or "tts-1",
            "input": text,
            "voice": voice,
            "response_format": "wav",
            "language": language,
        },
    )
    if not response.content.startswith(b"RIFF"):
        raise ProviderFailed(FAILED, "The speech provider's answer is not WAV audio.")
    return response.content


async def delete_voice(client: httpx.AsyncClient, voice: str) -> None:
    try:
        await client.delete(f"/voices/{voice}")
    except httpx.HTTPError:
        log.warning("provider_voice_not_deleted", voice=voice)
