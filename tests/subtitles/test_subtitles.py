"""Subtitles end to end, on speech generated with espeak-ng: what the job hears, when its cues
show, where the tracks appear (API, HLS master, player), and what it costs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from moviie.accounts.service import NewAccount
from moviie.db.models import Event
from moviie.subtitles.cues import MAX_DURATION_S, MAX_LINE, MIN_DURATION_S
from moviie.subtitles.formats import parse
from tests.conftest import bearer
from tests.media.flow import ready
from tests.subtitles.jobs import finished, path_of
from tests.subtitles.speech import Speech, word_error_rate

pytestmark = pytest.mark.timeout(300)


async def test_subtitles_of_speech_are_right_and_on_time(
    app_with_workers: FastAPI, ai_client: httpx.AsyncClient, account: NewAccount, speech: Speech
) -> None:
    key = account.private_key
    video = await ready(ai_client, key, speech.path)
    asked = await ai_client.post(
        f"/v1/videos/{video['id']}/subtitles", json={"language": "en"}, headers=bearer(key)
    )
    assert asked.status_code == 202, asked.text
    job = asked.json()
    assert (job["type"], job["status"], job["credits"]) == (
        "subtitles",
        "queued",
        {"charged": 1, "refunded": 0},
    )
    done, progress = await finished(ai_client, key, job["id"])
    assert done["status"] == "succeeded", done
    assert progress == sorted(progress)  # only forward
    assert done["progress"] == 1.0

    result = done["result"]
    assert result["language"] == "en"
    assert word_error_rate(speech.text, result["transcript"]["text"]) <= 0.15, result
    words = result["transcript"]["words"]
    assert all(w["start"] <= w["end"] for w in words)

    [track] = result["tracks"]
    vtt = await ai_client.get(path_of(track["vtt"]))
    assert vtt.status_code == 200
    assert vtt.headers["content-type"].startswith("text/vtt")
    cues = parse(vtt.content)
    for onset in speech.onsets:  # each sentence starts a cue, within half a second
        assert min(abs(c.start - onset) for c in cues) <= 0.5, (onset, cues)
    for cue in cues:
        lines = cue.text.split("\n")
        assert len(lines) <= 2
        assert all(len(line) <= MAX_LINE for line in lines), cue
        assert MIN_DURATION_S - 0.01 <= cue.end - cue.start <= MAX_DURATION_S + 0.01, cue
    srt = await ai_client.get(path_of(track["srt"]))
    assert srt.status_code == 200
    assert [(c.start, c.end, c.text) for c in parse(srt.content)] == [
        (c.start, c.end, c.text) for c in cues
    ]

    listed = await ai_client.get(f"/v1/videos/{video['id']}/subtitles", headers=bearer(key))
    assert listed.json()["data"] == [track]
    again = (await ai_client.get(f"/v1/videos/{video['id']}", headers=bearer(key))).json()
    assert again["subtitles"] == [track]
    master = await ai_client.get(path_of(again["playback"]["hls"]))
    assert 'TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en"' in master.text
    assert all(
        'SUBTITLES="subs"' in line
        for line in master.text.splitlines()
        if line.startswith("#EXT-X-STREAM-INF")
    )
    rendition = await ai_client.get(
        path_of(again["playback"]["hls"]).replace("master.m3u8", "subtitles/en.m3u8")
    )
    assert rendition.status_code == 200
    assert "../../subtitles/en.vtt" in rendition.text
    embed = await ai_client.get(f"/embed/{video['id']}")
    assert "/subtitles/en.vtt" in embed.text

    ledger = (await ai_client.get("/v1/credits/ledger", headers=bearer(key))).json()["data"]
    assert [(e["kind"], e["amount"], e["job_id"]) for e in ledger[:1]] == [("debit", -1, job["id"])]
    me = (await ai_client.get("/v1/me", headers=bearer(key))).json()
    assert me["credits"]["balance"] == ledger[0]["balance_after"]
    async with app_with_workers.state.db.transaction(write=False) as session:
        ready_events = (
            await session.scalars(
                select(Event).where(
                    Event.account_id == account.account.id, Event.type == "subtitles.ready"
                )
            )
        ).all()
    assert [e.data["id"] for e in ready_events] == [job["id"]]


async def test_a_video_without_audio_is_refused_before_charging(
    ai_client: httpx.AsyncClient, account: NewAccount, silent_clip: Path
) -> None:
    key = account.private_key
    video = await ready(ai_client, key, silent_clip)
    before = (await ai_client.get("/v1/me", headers=bearer(key))).json()["credits"]["balance"]
    asked = await ai_client.post(
        f"/v1/videos/{video['id']}/subtitles", json={}, headers=bearer(key)
    )
    assert asked.status_code == 422, asked.text
    assert asked.headers["content-type"] == "application/problem+json"
    assert asked.json()["code"] == "no_audio"
    after = (await ai_client.get("/v1/me", headers=bearer(key))).json()["credits"]["balance"]
    assert after == before
    jobs = (await ai_client.get("/v1/jobs", headers=bearer(key))).json()["data"]
    assert jobs == []
