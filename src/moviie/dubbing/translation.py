"""Translating a talk's segments, one line each way so every translation stays with its
segment: through the chat provider when one is configured, else offline through Apertium
where the language pair is installed (rule-based: a draft, and marked so)."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from moviie.config import Settings
from moviie.programs import ProgramFailed, listing, run_program
from moviie.providers.chat import translate_lines
from moviie.providers.http import ProviderFailed

# Apertium names its pairs in ISO 639-3 (older packages in 639-1); requests use 639-1.
ISO_639_3 = {
    "af": "afr", "ar": "ara", "br": "bre", "ca": "cat", "cs": "ces", "cy": "cym", "da": "dan",
    "de": "deu", "en": "eng", "eo": "epo", "es": "spa", "eu": "eus", "fr": "fra", "ga": "gle",
    "gl": "glg", "hr": "hbs", "id": "ind", "is": "isl", "it": "ita", "kk": "kaz", "mk": "mkd",
    "ms": "msa", "mt": "mlt", "nb": "nob", "nl": "nld", "nn": "nno", "no": "nob", "oc": "oci",
    "pl": "pol", "pt": "por", "ro": "ron", "ru": "rus", "sk": "slk", "sl": "slv", "sr": "srp",
    "sv": "swe", "tt": "tat", "uk": "ukr",
}  # fmt: skip


@dataclass(frozen=True)
class Translator:
    engine: str  # "llm" | "apertium"
    quality: str  # "standard" | "draft"
    mode: str | None = None  # Apertium's pair, e.g. "eng-spa"


@functools.cache
def apertium_modes() -> frozenset[str]:
    """The installed Apertium pairs (none when Apertium is not installed)."""
    return frozenset(listing("apertium", "-l"))


def _codes(language: str) -> tuple[str, ...]:
    base = language.split("-")[0]
    return tuple(c for c in (ISO_639_3.get(base), base) if c)


def apertium_mode(source: str, target: str) -> str | None:
    modes = apertium_modes()
    for s in _codes(source):
        for t in _codes(target):
            if f"{s}-{t}" in modes:
                return f"{s}-{t}"
    return None


def translator_for(settings: Settings, source: str | None, target: str) -> Translator | None:
    """How `source` becomes `target` here, or None. `source` None (to be detected): Apertium
    counts if some installed pair leads to `target`."""
    if settings.llm_base_url:
        return Translator("llm", "standard")
    if source is not None:
        mode = apertium_mode(source, target)
        return Translator("apertium", "draft", mode) if mode else None
    ends = {f"-{t}" for t in _codes(target)}
    if any(m.endswith(tuple(ends)) for m in apertium_modes()):
        return Translator("apertium", "draft")
    return None


async def translate(
    settings: Settings, translator: Translator, lines: Sequence[str], target: str
) -> list[str]:
    """Each line translated, in order. Raises ProviderFailed."""
    flat = [" ".join(line.split()) for line in lines]
    if translator.engine == "llm":
        return await translate_lines(settings, flat, target)
    assert translator.mode is not None
    return await _apertium(translator.mode, flat)


async def _apertium(mode: str, lines: list[str]) -> list[str]:
    binary = shutil.which("apertium")
    if binary is None:
        raise ProviderFailed("translation_failed", "Apertium is not installed here.")
    # -u: unknown words pass as they are, unmarked (names, numbers, jargon).
    try:
        out = await run_program([binary, "-u", mode], stdin="\n".join(lines).encode() + b"\n")
    except ProgramFailed as failed:
        raise ProviderFailed("translation_failed", f"Apertium ({mode}): {failed}.") from failed
    translated = [line.strip() for line in out.decode().splitlines()]
    while translated and not translated[-1]:
        translated.pop()
    if len(translated) != len(lines):
        raise ProviderFailed(
            "translation_failed",
            f"Apertium ({mode}) gave {len(translated)} lines for {len(lines)}.",
        )
    return translated
