"""WebVTT and SRT: written from cues, and read back strictly (an uploaded file is refused with
the line that is wrong, never half-kept)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from moviie.errors import ValidationFailed
from moviie.subtitles.cues import Cue

MAX_FILE_BYTES = 2 * 1024 * 1024
_TIME = r"(?:(\d{1,2}):)?(\d{2}):(\d{2})[.,](\d{3})"
_TIMING = re.compile(rf"^{_TIME}\s+-->\s+{_TIME}(?:\s+.*)?$")


class InvalidSubtitles(ValidationFailed):
    code = "invalid_subtitles"
    title = "The subtitles file is not valid WebVTT or SRT"


def _stamp(seconds: float, separator: str) -> str:
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def to_vtt(cues: Sequence[Cue]) -> str:
    blocks = ["WEBVTT"]
    for cue in cues:
        blocks.append(f"{_stamp(cue.start, '.')} --> {_stamp(cue.end, '.')}\n{cue.text}")
    return "\n\n".join(blocks) + "\n"


def to_srt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{n}\n{_stamp(cue.start, ',')} --> {_stamp(cue.end, ',')}\n{cue.text}"
        for n, cue in enumerate(cues, 1)
    ]
    return "\n\n".join(blocks) + "\n"


def _seconds(groups: Sequence[str | None]) -> float:
    hours, minutes, secs, ms = (int(g) if g else 0 for g in groups)
    if minutes > 59 or secs > 59:
        raise ValueError("minutes and seconds go up to 59")
    return hours * 3600 + minutes * 60 + secs + ms / 1000


def parse(data: bytes) -> list[Cue]:
    """Cues of a WebVTT or SRT file (told apart by the `WEBVTT` header)."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidSubtitles(f"Subtitle files are limited to {MAX_FILE_BYTES} bytes.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidSubtitles("Subtitle files must be UTF-8 text.") from exc
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    is_vtt = lines[0].startswith("WEBVTT")
    cues: list[Cue] = []
    i = 1 if is_vtt else 0
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if is_vtt and line.startswith(("NOTE", "STYLE", "REGION")):
            while i < len(lines) and lines[i].strip():  # a block to skip
                i += 1
            continue
        if "-->" not in line:  # a cue identifier (SRT's number, VTT's optional id)
            i += 1
            if i >= len(lines):
                raise InvalidSubtitles(f"Line {i}: a cue identifier with no timing after it.")
            line = lines[i].strip()
        match = _TIMING.match(line)
        if match is None:
            raise InvalidSubtitles(f"Line {i + 1}: expected `start --> end`, found {line[:80]!r}.")
        try:
            start, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
        except ValueError as exc:
            raise InvalidSubtitles(f"Line {i + 1}: {exc}.") from exc
        if end <= start:
            raise InvalidSubtitles(f"Line {i + 1}: a cue must end after it starts.")
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip():
            body.append(lines[i].rstrip())
            i += 1
        if not body:
            raise InvalidSubtitles(f"Line {i}: a cue with no text.")
        cues.append(Cue(start, end, "\n".join(body)))
    if not cues:
        raise InvalidSubtitles("The file has no cues.")
    return cues
