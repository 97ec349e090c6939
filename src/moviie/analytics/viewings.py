"""One viewing, summarised from its player events, in the player's order (`seq`).

What was played is read from consecutive events: from where the last event left the playhead
to where this one found it (a seek's origin, `from_s`, for a seek), when that moves forward by
at most MAX_STEP_S (a heartbeat comes every 10 s; a longer step is a gap we did not see, and a
backward one a seek). Watch time sums what was played (seen twice, counted twice); the
retention buckets and the completion count each part of the video once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

BUCKETS = 100
MAX_STEP_S = 30.0


@dataclass(frozen=True)
class PlayerEvent:
    seq: int
    type: str
    position_s: float
    from_s: float | None = None
    rendition: str | None = None


@dataclass
class Viewing:
    watch_time_s: float = 0.0
    completion: float = 0.0
    retention: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    renditions: dict[str, float] = field(default_factory=dict)


def played_spans(events: Sequence[PlayerEvent]) -> list[tuple[float, float, str | None]]:
    """(from, to, rendition) of each stretch played, in order."""
    spans: list[tuple[float, float, str | None]] = []
    at: float | None = None
    rendition: str | None = None
    for event in sorted(events, key=lambda e: e.seq):
        seek = event.type == "seek" and event.from_s is not None
        reached = event.from_s if seek and event.from_s is not None else event.position_s
        rendition = event.rendition or rendition
        if at is not None and 0 < reached - at <= MAX_STEP_S:
            spans.append((at, reached, rendition))
        at = event.position_s
    return spans


def summarise(events: Sequence[PlayerEvent], duration_s: float) -> Viewing:
    viewing = Viewing()
    spans = played_spans(events)
    for start, end, rendition in spans:
        viewing.watch_time_s += end - start
        name = rendition or "unknown"
        viewing.renditions[name] = viewing.renditions.get(name, 0.0) + (end - start)
    if duration_s <= 0:
        return viewing
    merged: list[list[float]] = []
    for start, end, _ in sorted(spans, key=lambda span: span[:2]):  # renditions may be None
        start, end = max(start, 0.0), min(end, duration_s)
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    viewing.completion = min(1.0, sum(end - start for start, end in merged) / duration_s)
    width = duration_s / BUCKETS
    for start, end in merged:
        # A bucket counts as seen when its middle was played.
        first = max(0, int(start / width - 0.5))
        for bucket in range(first, BUCKETS):
            middle = (bucket + 0.5) * width
            if middle > end:
                break
            if middle >= start:
                viewing.retention[bucket] = 1
    return viewing
