"""The chat provider (`MOVIIE_LLM_*`, any OpenAI-compatible `/chat/completions`): translating
lines, numbered in and numbered out so each answer stays with its line (a subtitle cue, a
dubbed segment), numbers and names kept."""

from __future__ import annotations

import re
from collections.abc import Sequence

import httpx

from moviie.config import Settings
from moviie.providers.http import ProviderFailed, call, provider_client
from moviie.subtitles.languages import label

BATCH = 40
_NUMBERED = re.compile(r"^\s*(\d+)[.):]\s*(.*)$")
FAILED = "translation_failed"


async def translate_lines(settings: Settings, lines: Sequence[str], target: str) -> list[str]:
    """Each line in `target`, in order. Raises ProviderFailed."""
    assert settings.llm_base_url is not None
    out: list[str] = []
    async with provider_client(
        settings.llm_base_url, settings.llm_api_key, settings.provider_timeout_s
    ) as client:
        for first in range(0, len(lines), BATCH):
            out += await _translate(client, settings, list(lines[first : first + BATCH]), target)
    return out


async def _translate(
    client: httpx.AsyncClient, settings: Settings, lines: list[str], target: str
) -> list[str]:
    numbered = "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))
    response = await call(
        client,
        "POST",
        "/chat/completions",
        code=FAILED,
        what="translation provider",
        attempts=settings.provider_attempts,
        json={
            "model": settings.llm_model or "gpt-4o-mini",
            "temperature": 0,
            "messages": [
                {
                    "role": "system",
                    "content": f"Translate each numbered line into {label(target)} ({target}). "
                    "Keep numbers, names and the meaning; do not merge or split lines. Answer "
                    "with exactly the same numbered lines, one per line, and nothing else.",
                },
                {"role": "user", "content": numbered},
            ],
        },
    )
    try:
        content = str(response.json()["choices"][0]["message"]["content"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ProviderFailed(
            FAILED, "The translation provider's answer is not a chat reply."
        ) from exc
    found: dict[int, str] = {}
    for line in content.splitlines():
        match = _NUMBERED.match(line)
        if match:
            found[int(match.group(1))] = match.group(2).strip()
    if sorted(found) != list(range(1, len(lines) + 1)):
        raise ProviderFailed(FAILED, "The translation provider did not answer every line.")
    return [found[n] for n in range(1, len(lines) + 1)]
