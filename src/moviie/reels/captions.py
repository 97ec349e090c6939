"""Burned-in captions for reels: ASS events rendered by ffmpeg's libass, the spoken word
highlighted as it is said, at most two short lines, in the lower safe area of the frame. The
font comes from a package (Source Sans Pro, OFL), never from what the system may lack."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Sequence
from pathlib import Path

from moviie.subtitles.cues import Word, word_groups, wrap

FONT_PACKAGE = "font_source_sans_pro"
FONT_FILE = "SourceSansPro-Black.ttf"
FONT_NAME = "Source Sans Pro Black"
HIGHLIGHT = "&H0000E5FF&"  # ASS is BGR: a warm yellow
TEXT = "&H00FFFFFF&"
SAFE_BOTTOM = 0.22  # of the height: clear of the platforms' own buttons and captions


def font_dir(work: Path) -> Path:
    """A directory holding only the caption font (libass's `fontsdir`)."""
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {FONT_PACKAGE} package is missing")
    source = Path(next(iter(spec.submodule_search_locations))) / "files" / FONT_FILE
    target = work / "fonts"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target / FONT_FILE)
    return target


def _stamp(seconds: float) -> str:
    centis = max(round(seconds * 100), 0)
    hours, centis = divmod(centis, 360_000)
    minutes, centis = divmod(centis, 6000)
    secs, centis = divmod(centis, 100)
    return f"{hours}:{minutes:02d}:{secs:02d}.{centis:02d}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("{", "(").replace("}", ")")


def ass_document(words: Sequence[Word], offset_s: float, width: int, height: int) -> str:
    """Captions for the words of a clip that starts at `offset_s` in the source: one event per
    word, showing its cue with that word highlighted, from the word's start to the next's."""
    size = round(height * 0.045)
    max_line = 16 if width / height < 0.7 else 22
    lines = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 2",
        "ScaledBorderAndShadow: yes",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Reel,{FONT_NAME},{size},{TEXT},{TEXT},&H00000000&,&H64000000&,0,0,0,0,"
        f"100,100,0,0,1,{max(round(size / 12), 2)},{max(round(size / 24), 1)},2,"
        f"{round(width * 0.08)},{round(width * 0.08)},{round(height * SAFE_BOTTOM)},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    for group in word_groups(words, max_line):
        layout = wrap(" ".join(w.text for w in group), max_line)
        breaks = _line_breaks(group, layout)
        for i, word in enumerate(group):
            start = word.start - offset_s
            end = (group[i + 1].start if i + 1 < len(group) else word.end) - offset_s
            text = ""
            for j, other in enumerate(group):
                token = _escape(other.text)
                if j == i:
                    token = f"{{\\c{HIGHLIGHT}}}{token}{{\\c{TEXT}}}"
                text += token + ("\\N" if j in breaks else " " if j + 1 < len(group) else "")
            lines.append(f"Dialogue: 0,{_stamp(start)},{_stamp(end)},Reel,,0,0,0,,{text}")
    return "\n".join(lines) + "\n"


def _line_breaks(group: Sequence[Word], layout: str | None) -> set[int]:
    """Indices of the words after which the wrapped cue breaks its line."""
    if layout is None or "\n" not in layout:
        return set()
    first_line_words = len(layout.split("\n")[0].split(" "))
    return {first_line_words - 1}
