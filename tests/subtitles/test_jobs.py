"""The AI job machinery, proved on subtitles: one job for identical requests, 402 with the
shortfall, refunds exactly once, refusals before any charge, and uploaded tracks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from moviie.accounts.service import NewAccount
from moviie.db.models import Account, CreditEntry, Event
from moviie.media.source import source_key
from moviie.subtitles.whisper import english_model
from tests.conftest import bearer, make_settings
from tests.media.flow import ready
from tests.subtitles.jobs import finished, path_of
from tests.subtitles.speech import Speech

pytestmark = pytest.mark.timeout(300)


async def _ledger(app: FastAPI, account_id: str) -> list[CreditEntry]:
    async with app.state.db.transaction(write=False) as session:
        stmt = select(CreditEntry).where(CreditEntry.account_id == account_id)
        return list((await session.scalars(stmt.order_by(CreditEntry.id))).all())


async def _balance(app: FastAPI, account_id: str) -> int:
    async with app.state.db.transaction(write=False) as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return account.credits_balance


async def test_identical_requests_at_once_make_one_job_charged_once(
    app_with_workers: FastAPI, ai_client: httpx.AsyncClient, account: NewAccount, speech: Speech
) -> None:
    key = account.private_key
    video = await ready(ai_client, key, speech.path)
    url = f"/v1/videos/{video['id']}/subtitles"
    answers = await asyncio.gather(
        *(ai_client.post(url, json={"language": "en"}, headers=bearer(key)) for _ in range(6))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 200, 202]
    assert len({a.json()["id"] for a in answers}) == 1
    job_id = answers[0].json()["id"]
    # Other parameters are another job; the same ones after it ended are a new one too.
    await finished(ai_client, key, job_id)
    again = await ai_client.post(url, json={"language": "en"}, headers=bearer(key))
    assert again.status_code == 202
    assert again.json()["id"] != job_id
    await finished(ai_client, key, again.json()["id"])
    listed = await ai_client.get(
        "/v1/jobs",
        params={"video_id": video["id"], "type": "subtitles", "status": "succeeded"},
        headers=bearer(key),
    )
    assert [j["id"] for j in listed.json()["data"]] == [again.json()["id"], job_id]  # newest first
    for other in ({"type": "quiz"}, {"status": "failed"}, {"video_id": "vid_other"}):
        filtered = await ai_client.get("/v1/jobs", params=other, headers=bearer(key))
        assert filtered.json()["data"] == [], other
    debits = [e for e in await _ledger(app_with_workers, account.account.id) if e.kind == "debit"]
    assert [e.job_id for e in debits] == [job_id, again.json()["id"]]
    entries = await _ledger(app_with_workers, account.account.id)
    assert sum(e.amount for e in entries) == await _balance(app_with_workers, account.account.id)


async def test_not_enough_credits_is_402_with_the_shortfall_and_no_job(
    app_with_workers: FastAPI, ai_client: httpx.AsyncClient, account: NewAccount, speech: Speech
) -> None:
    key = account.private_key
    video = await ready(ai_client, key, speech.path)
    async with app_with_workers.state.db.transaction() as session:
        await session.execute(
            update(Account).where(Account.id == account.account.id).values(credits_balance=0)
        )
    asked = await ai_client.post(
        f"/v1/videos/{video['id']}/subtitles", json={}, headers=bearer(key)
    )
    assert asked.status_code == 402, asked.text
    problem = asked.json()
    assert (problem["code"], problem["required"], problem["balance"], problem["shortfall"]) == (
        "insufficient_credits",
        1,
        0,
        1,
    )
    assert (await ai_client.get("/v1/jobs", headers=bearer(key))).json()["data"] == []


async def test_a_failed_job_is_refunded_in_full_exactly_once(
    app_with_workers: FastAPI, ai_client: httpx.AsyncClient, account: NewAccount, speech: Speech
) -> None:
    """The source vanished from storage: the step fails, is retried, and the job fails for
    good: refunded once, `subtitles.failed` once."""
    key = account.private_key
    video = await ready(ai_client, key, speech.path)
    settings = app_with_workers.state.settings
    stored = Path(settings.data_dir) / "media" / source_key(account.account.id, video["id"])
    if not stored.exists():
        pytest.skip("the source is not on local disk here")
    stored.unlink()
    balance = await _balance(app_with_workers, account.account.id)
    asked = await ai_client.post(
        f"/v1/videos/{video['id']}/subtitles", json={}, headers=bearer(key)
    )
    assert asked.status_code == 202, asked.text
    done, _ = await finished(ai_client, key, asked.json()["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "job_failed"
    assert done["credits"] == {"charged": 1, "refunded": 1}
    kinds = [(e.kind, e.amount) for e in await _ledger(app_with_workers, account.account.id)]
    assert kinds[-2:] == [("debit", -1), ("refund", 1)]
    assert await _balance(app_with_workers, account.account.id) == balance
    async with app_with_workers.state.db.transaction(write=False) as session:
        failed = (
            await session.scalars(select(Event).where(Event.type == "subtitles.failed"))
        ).all()
    assert [e.data["id"] for e in failed if e.account_id == account.account.id] == [done["id"]]


async def test_what_cannot_be_done_is_refused_up_front(
    database_url: str, tmp_path: Path, ai_client: httpx.AsyncClient, account: NewAccount
) -> None:
    """Without an LLM provider there is no translation; an English-only model takes only `en`
    (checked on the settings alone: the API never loads a model)."""
    from moviie.subtitles import whisper

    key = account.private_key
    missing = await ai_client.post("/v1/videos/vid_missing/subtitles", json={}, headers=bearer(key))
    assert missing.status_code == 404
    english_only = make_settings(database_url, tmp_path, whisper_model=english_model())
    assert whisper.languages_available(english_only) == {"en"}
    if whisper.multilingual_installed():
        assert "fr" in whisper.languages_available(make_settings(database_url, tmp_path))
    bad = await ai_client.post(
        "/v1/videos/vid_missing/subtitles", json={"language": "xx-!!"}, headers=bearer(key)
    )
    assert bad.status_code == 422


async def test_translation_and_languages_are_checked_before_charging(
    app_with_workers: FastAPI, ai_client: httpx.AsyncClient, account: NewAccount, speech: Speech
) -> None:
    key = account.private_key
    video = await ready(ai_client, key, speech.path)
    url = f"/v1/videos/{video['id']}/subtitles"
    translate = await ai_client.post(url, json={"translate_to": "fr"}, headers=bearer(key))
    assert translate.status_code == 422
    assert translate.json()["code"] == "translation_unavailable"
    settings = app_with_workers.state.settings
    app_with_workers.state.settings = settings.model_copy(update={"whisper_model": english_model()})
    try:
        french = await ai_client.post(url, json={"language": "fr"}, headers=bearer(key))
    finally:
        app_with_workers.state.settings = settings
    assert french.status_code == 422
    assert french.json()["code"] == "language_unavailable"
    unknown = await ai_client.post(url, json={"language": "zz"}, headers=bearer(key))
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "language_unavailable"
    assert (await ai_client.get("/v1/jobs", headers=bearer(key))).json()["data"] == []


VTT = b"""WEBVTT

00:00:01.000 --> 00:00:03.500
Hello there.

intro
00:00:04.000 --> 00:00:06.000
A second cue
on two lines.
"""
SRT = b"""1
00:00:01,000 --> 00:00:03,500
Bonjour.

2
00:00:04,000 --> 00:00:06,000
Deux lignes
ici.
"""


async def test_your_own_subtitles_upload_in_either_format_and_delete(
    ai_client: httpx.AsyncClient, account: NewAccount, speech: Speech
) -> None:
    key = account.private_key
    video = await ready(ai_client, key, speech.path)
    base = f"/v1/videos/{video['id']}/subtitles"
    put_vtt = await ai_client.put(f"{base}/en", content=VTT, headers=bearer(key))
    assert put_vtt.status_code == 200, put_vtt.text
    put_srt = await ai_client.put(f"{base}/fr", content=SRT, headers=bearer(key))
    assert put_srt.status_code == 200, put_srt.text
    assert put_srt.json()["label"] == "Français"
    assert put_srt.json()["source"] == "uploaded"
    as_vtt = await ai_client.get(path_of(put_srt.json()["vtt"]))
    assert as_vtt.text.startswith("WEBVTT")
    assert "00:00:04.000 --> 00:00:06.000\nDeux lignes\nici." in as_vtt.text
    as_srt = await ai_client.get(path_of(put_vtt.json()["srt"]))
    assert "2\n00:00:04,000 --> 00:00:06,000\nA second cue\non two lines." in as_srt.text
    listed = (await ai_client.get(base, headers=bearer(key))).json()["data"]
    assert [t["language"] for t in listed] == ["en", "fr"]

    broken = await ai_client.put(
        f"{base}/de", content=b"WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nBackwards\n",
        headers=bearer(key),
    )  # fmt: skip
    assert broken.status_code == 422
    assert broken.json()["code"] == "invalid_subtitles"
    not_text = await ai_client.put(f"{base}/de", content=b"\xff\xfe\x00", headers=bearer(key))
    assert not_text.status_code == 422
    kept = (await ai_client.get(base, headers=bearer(key))).json()["data"]
    assert [t["language"] for t in kept] == ["en", "fr"]

    gone = await ai_client.delete(f"{base}/fr", headers=bearer(key))
    assert gone.status_code == 204
    assert (await ai_client.get(path_of(put_srt.json()["vtt"]))).status_code == 404
    assert (await ai_client.delete(f"{base}/fr", headers=bearer(key))).status_code == 404
