"""Reels end to end on a generated talk (a real face photo sliding across the frame, espeak-ng
speech): the moments start and end on sentences, the speaker stays in the vertical crop, the
captions follow the words, and each reel is a video of its own."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from moviie.accounts.service import NewAccount
from moviie.config import Settings
from moviie.media.ffmpeg import ffmpeg_binary
from moviie.media.source import source_key
from moviie.reels.framing import faces
from moviie.subtitles.cues import Word, sentences_of
from tests.conftest import bearer
from tests.media.clips import video as plain_video
from tests.media.flow import ready
from tests.reels.talk import Talk, talk_video
from tests.subtitles.jobs import finished, path_of
from tests.subtitles.speech import SENTENCES

pytestmark = pytest.mark.timeout(600)
FFMPEG = ffmpeg_binary(Settings())


@pytest.fixture(scope="session")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Talk:
    return talk_video(tmp_path_factory.mktemp("talk"), SENTENCES * 3)


def _frames(path: Path, fps: float, width: int, height: int) -> list[np.ndarray]:
    raw = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-vf", f"fps={fps}", "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    size = width * height * 3
    return [
        np.frombuffer(raw[i * size : (i + 1) * size], np.uint8).reshape(height, width, 3)
        for i in range(len(raw) // size)
    ]


def _highlighted(frame: np.ndarray) -> int:
    """Pixels of the caption highlight (a warm yellow) in the lower half."""
    lower = frame[frame.shape[0] // 2 :].astype(np.int16)
    red, green, blue = lower[..., 0], lower[..., 1], lower[..., 2]
    return int(((red > 200) & (green > 170) & (blue < 90)).sum())


def _sentence_bounds(words: list[dict[str, Any]]) -> tuple[set[float], set[float]]:
    """Where sentences start and end (as subtitles/cues.py cuts them: punctuation, pauses)."""
    timed = [Word(w["text"], w["start"], w["end"]) for w in words]
    sentences = sentences_of(timed)
    return {s.start for s in sentences}, {s.end for s in sentences}


async def _download(client: httpx.AsyncClient, url: str, to: Path) -> Path:
    response = await client.get(path_of(url))
    assert response.status_code == 200, response.text
    to.write_bytes(response.content)
    return to


async def test_reels_of_a_talk(
    app_with_workers: FastAPI,
    ai_client: httpx.AsyncClient,
    account: NewAccount,
    talk: Talk,
    tmp_path: Path,
) -> None:
    key = account.private_key
    source = await ready(ai_client, key, talk.path)
    subtitles = await ai_client.post(
        f"/v1/videos/{source['id']}/subtitles", json={"language": "en"}, headers=bearer(key)
    )
    transcript_job, _ = await finished(ai_client, key, subtitles.json()["id"])
    words = transcript_job["result"]["transcript"]["words"]

    asked = await ai_client.post(
        f"/v1/videos/{source['id']}/reels",
        json={"count": 2, "min_duration_s": 8, "max_duration_s": 14},
        headers=bearer(key),
    )
    assert asked.status_code == 202, asked.text
    done, progress = await finished(ai_client, key, asked.json()["id"], timeout_s=500)
    assert done["status"] == "succeeded", done
    assert progress == sorted(progress)
    reels = done["result"]["reels"]
    assert len(reels) == 2
    starts, ends = _sentence_bounds(words)
    for reel in reels:
        assert reel["start_s"] in starts, (reel, starts)
        assert reel["end_s"] in ends, (reel, ends)
        assert 8 <= reel["end_s"] - reel["start_s"] <= 14
        assert (reel["width"], reel["height"]) == (1080, 1920)
        assert abs(reel["duration_s"] - (reel["end_s"] - reel["start_s"])) < 0.5
        assert reel["title"]
        assert set(reel["signals"]) == set(done["result"]["weights"])
    first, second = reels
    assert first["end_s"] <= second["start_s"]  # no overlap, in order

    listed = await ai_client.get(f"/v1/videos/{source['id']}/reels", headers=bearer(key))
    assert [v["id"] for v in listed.json()["data"]] == [r["video_id"] for r in reels]
    for video in listed.json()["data"]:
        assert video["status"] == "ready"
        assert video["source_video_id"] == source["id"]
        assert video["source_range"]["start_s"] >= 0

    reel = reels[0]
    mp4 = await _download(ai_client, reel["mp4"], tmp_path / "reel.mp4")
    frames = _frames(mp4, 4, 1080, 1920)
    with_face = 0
    for frame in frames:
        with_face += bool(faces(np.ascontiguousarray(frame[::4, ::4])))
    assert with_face >= 0.95 * len(frames), (with_face, len(frames))

    # Captions follow the words: the highlight is on 0.3 s after each sentence's first word,
    # and off in the silence between sentences.
    offset = reel["start_s"]
    inside = [w for w in words if offset <= w["start"] < reel["end_s"]]
    firsts = [w for w in inside if w["start"] in starts]
    for word in firsts:
        at = word["start"] - offset + 0.3
        frame = _frames_at(mp4, at)
        assert _highlighted(frame) > 200, (word, at)
    for word, following in itertools.pairwise(inside):
        if following["start"] - word["end"] >= 0.8:
            quiet = _frames_at(mp4, (word["end"] + following["start"]) / 2 - offset)
            assert _highlighted(quiet) < 50, word


def _frames_at(path: Path, at: float) -> np.ndarray:
    raw = subprocess.run(
        [FFMPEG, "-v", "error", "-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(1920, 1080, 3)


async def test_a_video_shorter_than_the_reels_is_refused_before_charging(
    ai_client: httpx.AsyncClient, account: NewAccount, tmp_path: Path
) -> None:
    key = account.private_key
    short = await ready(ai_client, key, plain_video(tmp_path / "short.mp4", seconds=4))
    before = (await ai_client.get("/v1/me", headers=bearer(key))).json()["credits"]["balance"]
    asked = await ai_client.post(
        f"/v1/videos/{short['id']}/reels", json={"min_duration_s": 15}, headers=bearer(key)
    )
    assert asked.status_code == 422, asked.text
    assert asked.json()["code"] == "video_too_short"
    after = (await ai_client.get("/v1/me", headers=bearer(key))).json()["credits"]["balance"]
    assert after == before
    bad = await ai_client.post(
        f"/v1/videos/{short['id']}/reels",
        json={"min_duration_s": 30, "max_duration_s": 20},
        headers=bearer(key),
    )
    assert bad.status_code == 422
    assert (await ai_client.get("/v1/jobs", headers=bearer(key))).json()["data"] == []


async def test_a_square_reel(ai_client: httpx.AsyncClient, account: NewAccount, talk: Talk) -> None:
    """A private talk gives private reels (they play only with a token, as their source)."""
    key = account.private_key
    source = await ready(ai_client, key, talk.path)
    private = await ai_client.patch(
        f"/v1/videos/{source['id']}", json={"privacy": "private"}, headers=bearer(key)
    )
    assert private.status_code == 200, private.text
    asked = await ai_client.post(
        f"/v1/videos/{source['id']}/reels",
        json={"count": 1, "min_duration_s": 6, "max_duration_s": 10, "aspect": "1:1",
              "captions": False},
        headers=bearer(key),
    )  # fmt: skip
    assert asked.status_code == 202, asked.text
    done, _ = await finished(ai_client, key, asked.json()["id"], timeout_s=500)
    assert done["status"] == "succeeded", done
    [reel] = done["result"]["reels"]
    assert (reel["width"], reel["height"]) == (1080, 1080)
    made = await ai_client.get(f"/v1/videos/{reel['video_id']}", headers=bearer(key))
    assert made.json()["privacy"] == "private"
    assert (await ai_client.get(path_of(reel["mp4"]))).status_code in (401, 403)
    await asyncio.sleep(0)


async def test_a_failed_reels_job_is_refunded(
    app_with_workers: FastAPI, ai_client: httpx.AsyncClient, account: NewAccount, talk: Talk
) -> None:
    """The source vanished from storage before the job read it: failed, refunded in full."""
    key = account.private_key
    source = await ready(ai_client, key, talk.path)
    stored = (
        Path(app_with_workers.state.settings.data_dir)
        / "media"
        / source_key(account.account.id, source["id"])
    )
    stored.unlink()
    asked = await ai_client.post(
        f"/v1/videos/{source['id']}/reels", json={"min_duration_s": 8}, headers=bearer(key)
    )
    assert asked.status_code == 202, asked.text
    done, _ = await finished(ai_client, key, asked.json()["id"])
    assert done["status"] == "failed"
    assert done["credits"]["refunded"] == done["credits"]["charged"] > 0
    ledger = (await ai_client.get("/v1/credits/ledger", headers=bearer(key))).json()["data"]
    assert [e["kind"] for e in ledger[:2]] == ["refund", "debit"]
