from __future__ import annotations

import pytest

from tests.subtitles.conftest import ai_client
from tests.subtitles.speech import Speech, speech_video

__all__ = ["ai_client"]

TALK = (
    "The weather is nice today.",
    "I have three cats and a dog.",
    "We walk to the market every morning.",
    "The house is very big and old.",
)


@pytest.fixture(scope="session")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    """Four short English sentences with 1.2 s between them (espeak-ng), under a test pattern."""
    return speech_video(tmp_path_factory.mktemp("talk"), TALK)


SPANISH_TALK = (
    "El tiempo es bueno hoy.",
    "Tengo tres gatos y un perro.",
    "Caminamos al mercado cada mañana.",
)


@pytest.fixture(scope="session")
def spanish_talk(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    return speech_video(tmp_path_factory.mktemp("charla"), SPANISH_TALK, voice="es")
