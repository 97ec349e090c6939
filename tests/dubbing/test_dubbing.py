"""Dubbing offline, for real: an English talk (espeak-ng) dubbed into Spanish with Apertium and
espeak-ng. Each dubbed sentence starts where its source sentence does (measured on the decoded
dub), the master playlist offers the dub as an audio rendition, the MP4 carries it, the
translated subtitles join the video; what could not succeed is refused before any charge."""

from __future__ import annotations

import re
from pathlib import Path

import av
import httpx
import pytest

from moviie.accounts.service import NewAccount
from tests.conftest import bearer
from tests.dubbing.audio import decoded, onsets
from tests.media.flow import ready
from tests.subtitles.jobs import finished, path_of
from tests.subtitles.speech import Speech

pytestmark = pytest.mark.timeout(600)


async def _fetch(client: httpx.AsyncClient, url: str, out: Path) -> Path:
    response = await client.get(path_of(url))
    assert response.status_code == 200, (url, response.text[:200])
    out.write_bytes(response.content)
    return out


async def _balance(client: httpx.AsyncClient, key: str) -> int:
    entries = (await client.get("/v1/credits/ledger", headers=bearer(key))).json()["data"]
    return int(entries[0]["balance_after"])


async def test_a_talk_dubbed_offline_into_spanish(
    ai_client: httpx.AsyncClient, account: NewAccount, talk: Speech, tmp_path: Path
) -> None:
    key = account.private_key
    video = await ready(ai_client, key, talk.path)
    before = await _balance(ai_client, key)
    asked = await ai_client.post(
        f"/v1/videos/{video['id']}/lipsync",
        json={"target_language": "es", "background": "none"},
        headers=bearer(key),
    )
    assert asked.status_code == 202, asked.text
    again = await ai_client.post(
        f"/v1/videos/{video['id']}/lipsync",
        json={"target_language": "es", "background": "none"},
        headers=bearer(key),
    )
    assert (again.status_code, again.json()["id"]) == (200, asked.json()["id"])  # charged once
    job, progress = await finished(ai_client, key, asked.json()["id"], timeout_s=300)
    assert job["status"] == "succeeded", job
    assert progress == sorted(progress)
    assert job["credits"] == {"charged": 10, "refunded": 0}
    assert await _balance(ai_client, key) == before - 10
    result = job["result"]
    assert (result["language"], result["source_language"]) == ("es", "en")
    assert (result["quality"], result["translation"], result["voice"]) == (
        "draft", "apertium", "espeak-ng",
    )  # fmt: skip
    segments = result["segments"]
    assert len(segments) == len(talk.onsets)
    assert "tiempo" in segments[0]["translation"].lower()
    assert "gatos" in segments[1]["translation"].lower()
    for segment, truth in zip(segments, talk.onsets, strict=True):
        assert abs(segment["start_s"] - truth) < 0.75, segment  # Whisper's timing, not ours
        assert abs(segment["dub_start_s"] - segment["start_s"]) < 0.01
        assert 0.75 <= segment["tempo"] <= 1.5
        assert (
            segment["dub_end_s"]
            <= segment["dub_start_s"] + (segment["end_s"] - segment["start_s"]) / 0.75 + 2
        )
    assert set(result["timings_s"]) == {
        "transcribe_s",
        "translate_s",
        "synthesize_s",
        "fit_s",
        "mux_s",
    }

    # The dub as heard: each sentence's speech starts within 0.5 s of its source segment.
    m4a = await _fetch(ai_client, result["audio"]["m4a"], tmp_path / "dub.m4a")
    heard = onsets(decoded(m4a))
    assert len(heard) == len(segments), heard
    for measured, segment in zip(heard, segments, strict=True):
        assert abs(measured - segment["start_s"]) < 0.5, (heard, segments)

    # The player's view: the master offers the original and the dub; the rendition plays.
    master = (await ai_client.get(f"/media/{video['id']}/hls/master.m3u8")).text
    audio = [line for line in master.splitlines() if "TYPE=AUDIO" in line]
    assert len(audio) == 2, master
    assert 'NAME="Original"' in audio[0]
    assert 'URI="audio/index.m3u8"' in audio[0]  # the sound is a rendition of its own
    assert 'LANGUAGE="es"' in audio[1]
    uri = re.search(r'URI="([^"]+)"', audio[1])
    assert uri is not None
    group = re.search(r'GROUP-ID="([^"]+)"', audio[0])
    assert group is not None
    assert f'GROUP-ID="{group.group(1)}"' in audio[1]
    variants = [line for line in master.splitlines() if line.startswith("#EXT-X-STREAM-INF")]
    assert variants
    assert all(f'AUDIO="{group.group(1)}"' in v for v in variants)
    rendition = await ai_client.get(f"/media/{video['id']}/hls/{uri.group(1)}")
    assert rendition.status_code == 200
    parts = [line for line in rendition.text.splitlines() if line and not line.startswith("#")]
    assert parts
    assert 'URI="init.mp4"' in rendition.text
    base = f"/media/{video['id']}/hls/{uri.group(1).rsplit('/', 1)[0]}"
    for name in ["init.mp4", parts[-1]]:
        assert (await ai_client.get(f"{base}/{name}")).status_code == 200

    # The MP4 with the dub for its sound, as long as the video.
    mp4 = await _fetch(ai_client, result["mp4"], tmp_path / "dubbed.mp4")
    streams = _streams(mp4)
    assert streams == ["video", "audio"]
    assert abs(len(decoded(mp4)) / 16_000 - video["duration_s"]) < 0.5

    # Translated subtitles, and the dub listed.
    tracks = (
        await ai_client.get(f"/v1/videos/{video['id']}/subtitles", headers=bearer(key))
    ).json()
    spanish = [t for t in tracks["data"] if t["language"] == "es"]
    assert spanish
    assert spanish[0]["source"] == "translated"
    vtt = (await ai_client.get(path_of(spanish[0]["vtt"]))).text
    assert "gatos" in vtt
    dubs = (await ai_client.get(f"/v1/videos/{video['id']}/lipsync", headers=bearer(key))).json()
    [dub] = dubs["data"]
    assert (dub["language"], dub["quality"], dub["voice"], dub["job_id"]) == (
        "es", "draft", "espeak-ng", job["id"],
    )  # fmt: skip
    assert dub["audio"]["hls"].endswith(uri.group(1))
    assert dub["lipsync"] is None


async def test_a_spanish_talk_dubbed_into_english_speaks_with_piper(
    ai_client: httpx.AsyncClient, account: NewAccount, spanish_talk: Speech, tmp_path: Path
) -> None:
    """The language detected (none given), Apertium's other direction, the English voice."""
    key = account.private_key
    video = await ready(ai_client, key, spanish_talk.path)
    asked = await ai_client.post(
        f"/v1/videos/{video['id']}/lipsync",
        json={"target_language": "en", "background": "none"},
        headers=bearer(key),
    )
    assert asked.status_code == 202, asked.text
    job, _ = await finished(ai_client, key, asked.json()["id"], timeout_s=300)
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    assert (result["source_language"], result["voice"], result["translation"]) == (
        "es", "piper", "apertium",
    )  # fmt: skip
    assert "cats" in " ".join(s["translation"] for s in result["segments"]).lower()
    heard = onsets(decoded(await _fetch(ai_client, result["audio"]["m4a"], tmp_path / "en.m4a")))
    assert len(heard) == len(result["segments"]), heard
    for measured, segment in zip(heard, result["segments"], strict=True):
        assert abs(measured - segment["start_s"]) < 0.5, (heard, result["segments"])


def _streams(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [stream.type for stream in container.streams]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"target_language": "es", "lipsync": True}, "lipsync_unavailable"),
        ({"target_language": "es", "voice_clone": True}, "voice_clone_unavailable"),
        ({"target_language": "en", "language": "en"}, "same_language"),
        ({"target_language": "ja", "language": "en"}, "translation_unavailable"),
        ({"target_language": "es", "language": "xx"}, "language_unavailable"),
    ],
)
async def test_what_cannot_succeed_is_refused_before_any_charge(
    ai_client: httpx.AsyncClient,
    account: NewAccount,
    talk: Speech,
    body: dict[str, object],
    code: str,
) -> None:
    key = account.private_key
    video = await ready(ai_client, key, talk.path)
    before = await _balance(ai_client, key)
    refused = await ai_client.post(
        f"/v1/videos/{video['id']}/lipsync", json=body, headers=bearer(key)
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == code
    assert await _balance(ai_client, key) == before
    jobs = (await ai_client.get(f"/v1/jobs?video_id={video['id']}", headers=bearer(key))).json()
    assert jobs["data"] == []
