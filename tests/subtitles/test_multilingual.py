"""With `moviie[multilingual]` installed, the Whisper base model is joined from its two packages
into the data directory (once) and the language of the speech is detected."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from moviie.accounts.service import NewAccount
from moviie.subtitles import whisper
from tests.conftest import bearer
from tests.media.flow import ready
from tests.subtitles.jobs import finished
from tests.subtitles.speech import speech_video, word_error_rate

pytestmark = pytest.mark.timeout(300)

FRENCH = (
    "Bonjour à tous, nous allons parler de la mer.",
    "Le petit chat dort sur la chaise de la cuisine.",
)


@pytest.mark.skipif(not whisper.multilingual_installed(), reason="moviie[multilingual] absent")
async def test_the_language_is_detected_with_the_multilingual_model(
    app_with_workers: FastAPI, ai_client: httpx.AsyncClient, account: NewAccount, tmp_path: Path
) -> None:
    key = account.private_key
    speech = speech_video(tmp_path / "fr", FRENCH, voice="fr")
    video = await ready(ai_client, key, speech.path)
    asked = await ai_client.post(
        f"/v1/videos/{video['id']}/subtitles", json={}, headers=bearer(key)
    )
    assert asked.status_code == 202, asked.text
    assert asked.json()["params"]["language"] is None  # to be detected
    done, _ = await finished(ai_client, key, asked.json()["id"])
    assert done["status"] == "succeeded", done
    assert done["result"]["language"] == "fr"
    assert [t["label"] for t in done["result"]["tracks"]] == ["Français"]
    assert word_error_rate(speech.text, done["result"]["transcript"]["text"]) <= 0.5

    joined = Path(app_with_workers.state.settings.data_dir) / "models" / "whisper-base"
    parts = [
        next(whisper._package_dir(name).rglob(f"model.bin.part{n}")).stat().st_size  # type: ignore[union-attr]
        for n, name in enumerate(whisper.MULTILINGUAL_PACKAGES, 1)
    ]
    assert (joined / "model.bin").stat().st_size == sum(parts)
    assert {"config.json", "tokenizer.json"} <= {p.name for p in joined.iterdir()}
