"""Probing real files made with ffmpeg: what a video is, and what is refused and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from moviie.media.probe import MediaRejected, probe
from tests.media.clips import broken_corpus, ffmpeg, video

LIMIT = 6 * 3600


def test_a_video_with_sound(tmp_path: Path) -> None:
    info = probe(video(tmp_path / "a.mp4", size="1280x720", seconds=2), max_duration_s=LIMIT)
    assert (info.width, info.height, info.rotation) == (1280, 720, 0)
    assert (info.has_video, info.has_audio) == (True, True)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.duration_s == pytest.approx(2, abs=0.2)
    assert info.frame_rate == pytest.approx(25)


def test_rotation_metadata_swaps_the_displayed_size(tmp_path: Path) -> None:
    source = video(tmp_path / "landscape.mp4", size="640x360", audio=False)
    rotated = tmp_path / "phone.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(source), "-c", "copy", str(rotated))
    info = probe(rotated, max_duration_s=LIMIT)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (360, 640)


def test_odd_sizes_silent_and_audio_only(tmp_path: Path) -> None:
    odd = video(
        tmp_path / "odd.mkv",
        audio=False,
        extra=("-vf", "scale=1281:721"),
        codec=("-c:v", "ffv1"),
    )
    info = probe(odd, max_duration_s=LIMIT)
    assert (info.width, info.height, info.has_audio) == (1281, 721, False)

    sound = tmp_path / "sound.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=2", "-c:a", "aac", str(sound))
    audio_only = probe(sound, max_duration_s=LIMIT)
    assert (audio_only.has_video, audio_only.has_audio) == (False, True)
    assert audio_only.duration_s == pytest.approx(2, abs=0.2)


def test_a_ten_bit_hevc_source(tmp_path: Path) -> None:
    clip = video(
        tmp_path / "hevc.mp4",
        audio=False,
        codec=(
            "-c:v",
            "libx265",
            "-pix_fmt",
            "yuv420p10le",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
        ),
    )
    info = probe(clip, max_duration_s=LIMIT)
    assert info.video_codec == "hevc"
    assert info.pixel_format == "yuv420p10le"


def test_too_long_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaRejected) as refused:
        probe(video(tmp_path / "a.mp4", seconds=3, audio=False), max_duration_s=1)
    assert refused.value.code == "duration_over_limit"


def test_broken_files_are_refused_with_a_code(tmp_path: Path) -> None:
    codes = {}
    for name, path in broken_corpus(tmp_path).items():
        with pytest.raises(MediaRejected) as refused:
            probe(path, max_duration_s=LIMIT)
        codes[name] = refused.value.code
    assert codes["empty"] == "unsupported_media"
    assert codes["text"] == "unsupported_media"
    assert codes["garbage"] == "unsupported_media"
    assert codes["truncated"] == "corrupt_media"  # an MP4 cut before its index
    assert codes["no_moov"] == "corrupt_media"
    assert codes["image"] == "unsupported_media"
