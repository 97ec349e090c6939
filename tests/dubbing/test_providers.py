"""Dubbing through providers, against a local server speaking their documented shapes: the
speaker's voice cloned from clean sentences of the source, a provider's 429 tried again, the
lip-synced video made a video of its own; a provider that keeps failing (429, 500, a timeout)
fails the job, confirmed, refunded in full and announced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from moviie.app import create_app
from moviie.jobs.queues import QUEUES
from tests.conftest import bearer, make_account, make_settings
from tests.dubbing.providers import Script, provider, wav_facts
from tests.media.flow import ready
from tests.subtitles.jobs import finished
from tests.subtitles.speech import Speech

pytestmark = pytest.mark.timeout(600)


@asynccontextmanager
async def _moviie(
    database_url: str, data: Path, base: str, **more: object
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    settings = make_settings(
        database_url,
        data,
        **more,
        queue_polling_interval_s=0.1,
        tts_base_url=f"{base}/v1",
        tts_api_key="tts-key",
        lipsync_url=f"{base}/lipsync",
        provider_timeout_s=5.0,  # the scripted server synthesizes with espeak-ng before it answers
        provider_attempts=3,
    )
    app = create_app(settings, worker_queues=QUEUES)
    async with app.router.lifespan_context(app):
        account = await make_account(app.state.db)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
            yield client, account.private_key


async def test_a_dub_in_the_speakers_voice_lip_synced(
    database_url: str, tmp_path: Path, talk: Speech
) -> None:
    script = Script(failures={"/v1/audio/speech": ["429"]})
    with provider(script) as base:
        async with _moviie(database_url, tmp_path, base) as (client, key):
            video = await ready(client, key, talk.path)
            asked = await client.post(
                f"/v1/videos/{video['id']}/lipsync",
                json={"target_language": "es", "voice_clone": True, "lipsync": True},
                headers=bearer(key),
            )
            assert asked.status_code == 202, asked.text
            job, _ = await finished(client, key, asked.json()["id"], timeout_s=300)
            assert job["status"] == "succeeded", job["error"]
            result = job["result"]
            synced_id = result["lipsync"]["video_id"]
            synced = (await client.get(f"/v1/videos/{synced_id}", headers=bearer(key))).json()
            dubs = (
                await client.get(f"/v1/videos/{video['id']}/lipsync", headers=bearer(key))
            ).json()["data"]
    assert result["voice"] == "clone"
    segments = len(result["segments"])
    # The voice, from whole clean sentences of the speaker: mono, 24 kHz, at most 30 s.
    [reference] = script.references
    channels, rate, seconds = wav_facts(reference)
    assert (channels, rate) == (1, 24_000)
    assert 1.5 <= seconds <= 31
    speech_calls = [p for m, p in script.seen if p == "/v1/audio/speech"]
    assert len(speech_calls) == segments + 1  # the 429 was tried again
    assert script.deleted == ["voice_1"]  # the job cleans up after itself
    assert script.lipsync_inputs == [{"language": "es"}]
    assert script.polls == 2
    assert synced["status"] == "ready"
    assert synced["source_video_id"] == video["id"]
    assert result["lipsync"]["status"] == "ready"
    [dub] = dubs
    assert dub["voice"] == "clone"
    assert dub["lipsync"]["video_id"] == synced_id


async def test_a_provider_that_keeps_failing_fails_the_job_refunded(
    database_url: str, tmp_path: Path, talk: Speech
) -> None:
    script = Script(failures={"/v1/audio/speech": ["429", "500", "hang"] * 2})
    with provider(script) as base:
        async with _moviie(database_url, tmp_path, base) as (client, key):
            video = await ready(client, key, talk.path)
            asked = await client.post(
                f"/v1/videos/{video['id']}/lipsync",
                json={"target_language": "es", "voice_clone": True},
                headers=bearer(key),
            )
            assert asked.status_code == 202, asked.text
            job, _ = await finished(client, key, asked.json()["id"], timeout_s=300)
            ledger = (await client.get("/v1/credits/ledger", headers=bearer(key))).json()["data"]
            events = (
                await client.get("/v1/events?type=lipsync.failed", headers=bearer(key))
            ).json()["data"]
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "speech_failed"
    assert "after 3 attempts" in job["error"]["message"]
    assert job["credits"] == {"charged": 10, "refunded": 10}
    assert [e["kind"] for e in ledger[:2]] == ["refund", "debit"]
    assert [e["data"]["id"] for e in events] == [job["id"]]
    assert [p for _, p in script.seen].count("/v1/audio/speech") == 3  # once, not per step retry
    assert script.deleted == ["voice_1"]


async def test_the_chat_provider_translates_when_configured(
    database_url: str, tmp_path: Path, talk: Speech
) -> None:
    script = Script(failures={"/v1/chat/completions": ["503"]})
    with provider(script) as base:
        async with _moviie(database_url, tmp_path, base, llm_base_url=f"{base}/v1") as (
            client,
            key,
        ):
            video = await ready(client, key, talk.path)
            asked = await client.post(
                f"/v1/videos/{video['id']}/lipsync",
                json={"target_language": "es"},
                headers=bearer(key),
            )
            job, _ = await finished(client, key, asked.json()["id"], timeout_s=300)
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    assert (result["quality"], result["translation"], result["voice"]) == (
        "standard", "llm", "espeak-ng",
    )  # fmt: skip
    assert all(s["translation"] == f"hola {s['text']}" for s in result["segments"])
    assert [p for _, p in script.seen].count("/v1/chat/completions") == 2  # the 503, then once
