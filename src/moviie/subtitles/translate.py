"""Translating cues with an OpenAI-compatible chat API (`MOVIIE_LLM_*`): numbered lines in,
the same numbers out, timings kept."""

from __future__ import annotations

import re
from collections.abc import Sequence

import httpx

from moviie.config import Settings
from moviie.subtitles.cues import Cue, wrap
from moviie.subtitles.languages import label

BATCH = 40
_NUMBERED = re.compile(r"^\s*(\d+)[.):]\s*(.*)$")


class TranslationFailed(RuntimeError):
    pass


async def translate_cues(settings: Settings, cues: Sequence[Cue], target: str) -> list[Cue]:
    assert settings.llm_base_url is not None
    headers = {}
    if settings.llm_api_key is not None:
        headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
    out: list[Cue] = []
    async with httpx.AsyncClient(
        base_url=settings.llm_base_url, headers=headers, timeout=120
    ) as client:
        for first in range(0, len(cues), BATCH):
            batch = cues[first : first + BATCH]
            texts = await _translate(
                client, settings, [c.text.replace("\n", " ") for c in batch], target
            )
            out.extend(
                Cue(cue.start, cue.end, wrap(text) or text)
                for cue, text in zip(batch, texts, strict=True)
            )
    return out


async def _translate(
    client: httpx.AsyncClient, settings: Settings, lines: list[str], target: str
) -> list[str]:
    numbered = "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))
    response = await client.post(
        "/chat/completions",
        json={
            "model": settings.llm_model or "gpt-4o-mini",
            "temperature": 0,
            "messages": [
                {
                    "role": "system",
                    "content": f"Translate each numbered subtitle line into {label(target)} "
                    f"({target}). Answer with exactly the same numbered lines, one per line, "
                    "and nothing else.",
                },
                {"role": "user", "content": numbered},
            ],
        },
    )
    if response.status_code != 200:
        raise TranslationFailed(f"the LLM provider answered {response.status_code}")
    content = response.json()["choices"][0]["message"]["content"]
    found: dict[int, str] = {}
    for line in str(content).splitlines():
        match = _NUMBERED.match(line)
        if match:
            found[int(match.group(1))] = match.group(2).strip()
    if sorted(found) != list(range(1, len(lines) + 1)):
        raise TranslationFailed("the LLM provider did not answer every line")
    return [found[n] for n in range(1, len(lines) + 1)]
