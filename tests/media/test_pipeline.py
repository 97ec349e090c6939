"""The whole pipeline on generated sources of every awkward kind (1080p, portrait with rotation,
odd sizes, silent, audio only, variable frame rate, 10-bit HEVC) and on damaged ones: what comes
out plays, what cannot fails with a code, and the worker goes on with the next job."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from moviie.accounts.service import NewAccount
from moviie.db.models import Event
from tests.media.clips import broken_corpus, damaged_in_the_middle, ffmpeg, video
from tests.media.flow import Video, settled, upload, wait_until

pytestmark = pytest.mark.timeout(300)


def _sources(root: Path) -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    landscape = video(root / "landscape.mp4", size="640x360")
    portrait = root / "portrait.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(landscape), "-c", "copy", str(portrait))
    audio = root / "audio.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=3", "-c:a", "aac", str(audio))
    vfr = root / "vfr.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=3",
        "-vf", "setpts='N/30/TB+if(mod(N,3),0,0.02/TB)'", "-fps_mode", "vfr",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast", str(vfr),
    )  # fmt: skip
    return {
        "hd": video(root / "hd.mp4", size="1920x1080", seconds=2),
        "portrait": portrait,
        "odd": video(
            root / "odd.mkv", extra=("-vf", "scale=1281:721"), codec=("-c:v", "ffv1"), seconds=1
        ),
        "silent": video(root / "silent.mp4", audio=False),
        "audio": audio,
        "vfr": vfr,
        "hevc10": video(root / "hevc10.mp4", codec=HEVC_10_BIT),
    }


HEVC_10_BIT = (
    "-c:v", "libx265", "-pix_fmt", "yuv420p10le", "-preset", "ultrafast",
    "-x265-params", "log-level=error",
)  # fmt: skip


# Displayed size, and the renditions' sizes top first (a rung names the short side).
EXPECTED: dict[str, tuple[tuple[int, int] | None, list[str]]] = {
    "hd": ((1920, 1080), ["1920x1080", "1280x720", "854x480", "640x360", "426x240"]),
    "portrait": ((360, 640), ["360x640", "240x426"]),
    "odd": ((1281, 721), ["1280x720", "852x480", "640x360", "426x240"]),
    "silent": ((640, 360), ["640x360", "426x240"]),
    "audio": (None, []),
    "vfr": ((640, 360), ["640x360", "426x240"]),
    "hevc10": ((640, 360), ["640x360", "426x240"]),
}
SILENT = {"silent", "vfr"}


async def test_every_kind_of_source_becomes_a_playable_ladder(
    app_with_workers: FastAPI, account: NewAccount, tmp_path: Path
) -> None:
    sources = _sources(tmp_path / "sources")
    key = account.private_key
    transport = httpx.ASGITransport(app=app_with_workers)
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        ids = {name: await upload(client, key, path) for name, path in sources.items()}
        for name, video_id in ids.items():
            done = await settled(client, key, video_id)
            assert done["status"] == "ready", (name, done)
            assert done["progress"] == 1.0
            size, ladder = EXPECTED[name]
            assert (done["width"], done["height"]) == (size or (None, None)), name
            master = (await client.get(httpx.URL(done["playback"]["hls"]).path)).text
            stream_infs = [line for line in master.splitlines() if "STREAM-INF" in line]
            resolutions = [m.group(1) for line in stream_infs if (m := _RES.search(line))]
            assert resolutions == ladder, (name, master)
            for line in stream_infs:
                assert ("mp4a.40.2" in line) == (name not in SILENT), (name, line)
                assert ("avc1." in line) == (name != "audio"), (name, line)
            download = await _fetch_to(client, done["playback"]["mp4"], tmp_path / f"{name}.mp4")
            _check_download(download, name, ladder)
            if name == "audio":
                assert done["playback"]["poster"] is None
                poster = await client.get(f"/media/{video_id}/poster.jpg")
                assert poster.status_code == 404
                page = await client.get(f"/embed/{video_id}")
                assert page.status_code == 200
                assert '"storyboard": null' in page.text
                assert "poster=" not in page.text
            if name == "vfr":
                await _check_segments_are_two_seconds(client, done)


_RES = re.compile(r"RESOLUTION=(\d+x\d+)")


async def _fetch_to(client: httpx.AsyncClient, url: str, path: Path) -> Path:
    response = await client.get(httpx.URL(url).path)
    assert response.status_code == 200
    path.write_bytes(response.content)
    return path


def _check_download(path: Path, name: str, ladder: list[str]) -> None:
    """The MP4 is H.264 yuv420p at the top rendition's size (10-bit HEVC in, 8-bit H.264 out)."""
    with av.open(str(path)) as container:
        streams = container.streams
        if not ladder:
            assert len(streams.video) == 0
            assert streams.audio[0].codec_context.name == "aac"
            return
        stream = streams.video[0]
        assert stream.codec_context.name == "h264", name
        assert stream.codec_context.format.name == "yuv420p", name
        assert f"{stream.codec_context.width}x{stream.codec_context.height}" == ladder[0], name
        assert (len(streams.audio) == 1) == (name not in SILENT)


async def _check_segments_are_two_seconds(client: httpx.AsyncClient, done: Video) -> None:
    base = httpx.URL(done["playback"]["hls"]).path.rsplit("/", 1)[0]
    playlist = (await client.get(f"{base}/360p/index.m3u8")).text
    durations = [float(x) for x in re.findall(r"#EXTINF:([\d.]+)", playlist)]
    assert len(durations) == 2, playlist
    assert abs(durations[0] - 2.0) < 0.05, playlist


async def test_damaged_files_fail_with_a_code_and_the_worker_goes_on(
    app_with_workers: FastAPI, account: NewAccount, tmp_path: Path
) -> None:
    corpus = broken_corpus(tmp_path / "broken")
    del corpus["empty"]  # refused at upload (400 empty_file), never reaches the pipeline
    good = video(tmp_path / "good.mp4", seconds=6)
    corpus["damaged_middle"] = damaged_in_the_middle(good, tmp_path / "damaged.mp4")
    expected = {
        "text": "unsupported_media",
        "garbage": "unsupported_media",
        "image": "unsupported_media",
        "truncated": "corrupt_media",
        "no_moov": "corrupt_media",
        "damaged_middle": "corrupt_media",
    }
    key = account.private_key
    transport = httpx.ASGITransport(app=app_with_workers)
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        ids = {name: await upload(client, key, path) for name, path in corpus.items()}
        after = await upload(client, key, good)  # queued behind the broken ones
        codes = {}
        for name, video_id in ids.items():
            done = await settled(client, key, video_id)
            assert done["status"] == "failed", (name, done)
            assert done["error"]["message"], done
            codes[name] = done["error"]["code"]
        assert codes == expected
        assert (await settled(client, key, after))["status"] == "ready"
        work = app_with_workers.state.settings.data_dir / "work"
        assert not work.exists() or not any(work.iterdir())  # nothing left behind

    async with app_with_workers.state.db.transaction(write=False) as session:
        failed = (
            await session.scalars(
                select(Event.data).where(
                    Event.account_id == account.account.id, Event.type == "video.failed"
                )
            )
        ).all()
    assert sorted(data["id"] for data in failed) == sorted(ids.values())  # once each


@pytest.mark.parametrize("app_with_workers", ["local"], indirect=True)  # storage plays no part
async def test_progress_moves_from_zero_to_one_while_processing(
    app_with_workers: FastAPI, account: NewAccount, tmp_path: Path
) -> None:
    clip = video(tmp_path / "long.mp4", size="1280x720", seconds=8)
    key = account.private_key
    transport = httpx.ASGITransport(app=app_with_workers)
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        video_id = await upload(client, key, clip)
        seen: list[dict[str, Any]] = []
        await wait_until(client, key, video_id, lambda v: v["status"] == "ready", seen=seen)
    progress = [v["progress"] for v in seen if v["status"] == "processing"]
    assert all(p is not None and 0 <= p < 1 for p in progress), progress
    assert progress == sorted(progress)  # never goes back
    assert any(0.02 < p < 0.95 for p in progress), progress  # reported during the encode
    assert seen[-1]["progress"] == 1.0


async def test_a_deleted_video_stops_processing_quietly(
    app_with_workers: FastAPI, account: NewAccount, tmp_path: Path
) -> None:
    clip = video(tmp_path / "clip.mp4", seconds=2)
    key = account.private_key
    transport = httpx.ASGITransport(app=app_with_workers)
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        video_id = await upload(client, key, clip)
        deleted = await client.delete(
            f"/v1/videos/{video_id}", headers={"Authorization": f"Bearer {key}"}
        )
        assert deleted.status_code == 204
        next_id = await upload(client, key, clip)
        assert (await settled(client, key, next_id))["status"] == "ready"
        await asyncio.sleep(0.5)
    async with app_with_workers.state.db.transaction(write=False) as session:
        kinds = (
            await session.scalars(
                select(Event.type).where(
                    Event.account_id == account.account.id,
                    Event.data["id"].as_string() == video_id,
                )
            )
        ).all()
    assert "video.ready" not in kinds
    assert "video.failed" not in kinds
