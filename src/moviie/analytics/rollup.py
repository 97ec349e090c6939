"""The rollup job: raw events the job has not read yet, in id order and up to the first one
younger than a settling time (so an event whose insert commits a moment after a later one's
is waited for, never skipped: the cursor only passes settled events), name the viewings they
belong to; each such viewing is summarised again from all its events, and the hours and
days those viewings started in are rolled up again from their viewings. Idempotent: a rerun
rewrites the same rows. Raw events older than the retention are deleted once read."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from moviie.analytics import repository
from moviie.analytics.viewings import BUCKETS, PlayerEvent, summarise
from moviie.db.engine import Database
from moviie.db.models import AnalyticsEvent, AnalyticsRollup, AnalyticsView

PERIODS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


def period_start(when: datetime, period: str) -> datetime:
    hour = when.replace(minute=0, second=0, microsecond=0)
    return hour if period == "hour" else hour.replace(hour=0)


def _viewing(events: list[AnalyticsEvent], duration_s: float) -> AnalyticsView:
    first = min(events, key=lambda e: (e.seq, e.id))
    summary = summarise(
        [PlayerEvent(e.seq, e.type, e.position_s, e.from_s, e.rendition) for e in events],
        duration_s,
    )
    return AnalyticsView(
        video_id=first.video_id,
        view_id=first.view_id,
        account_id=first.account_id,
        viewer_id=first.viewer_id,
        started_at=min(e.received_at for e in events),
        watch_time_s=round(summary.watch_time_s, 3),
        completion=round(summary.completion, 4),
        retention=summary.retention,
        renditions={k: round(v, 3) for k, v in summary.renditions.items()},
    )


def rollup_of(
    video_id: str, account_id: str, period: str, start: datetime, views: list[AnalyticsView]
) -> AnalyticsRollup:
    retention = [0] * BUCKETS
    renditions: dict[str, float] = defaultdict(float)
    for view in views:
        retention = [a + b for a, b in zip(retention, view.retention, strict=True)]
        for name, seconds in view.renditions.items():
            renditions[name] += seconds
    return AnalyticsRollup(
        video_id=video_id,
        period=period,
        start=start,
        account_id=account_id,
        views=len(views),
        unique_viewers=len({v.viewer_id for v in views}),
        watch_time_s=round(sum(v.watch_time_s for v in views), 3),
        completion_sum=round(sum(v.completion for v in views), 4),
        retention=retention,
        renditions={k: round(v, 3) for k, v in sorted(renditions.items())},
    )


async def roll_up(db: Database, now: datetime, *, settle_s: float = 10.0, batch: int = 5000) -> int:
    """Read every settled event not yet read; returns how many were."""
    read = 0
    while True:
        async with db.transaction() as session:
            after = await repository.cursor(session)
            settled = now - timedelta(seconds=settle_s)
            new = []
            for candidate in await repository.events_after(session, after, batch):
                if candidate[3] >= settled:
                    break
                new.append(candidate)
            if not new:
                return read
            keys = sorted({(video, view) for _, video, view, _ in new})
            # The periods the views were counted in so far, too: a view rebuilt with another
            # start (its older events purged) leaves its old period.
            before = await repository.view_starts(session, keys)
            by_view: dict[tuple[str, str], list[AnalyticsEvent]] = defaultdict(list)
            for event in await repository.events_of_views(session, keys):
                by_view[(event.video_id, event.view_id)].append(event)
            lengths = await repository.durations(session, {video for video, _ in keys})
            viewings = [
                _viewing(events, lengths[key[0]])
                for key, events in by_view.items()
                if key[0] in lengths  # a video deleted since is no longer rolled up
            ]
            await repository.replace_views(session, keys, viewings)
            starts = [(v.video_id, v.account_id, v.started_at) for v in viewings] + list(before)
            dirty = {
                (video_id, account_id, period, period_start(started, period))
                for video_id, account_id, started in starts
                for period in PERIODS
            }
            for video_id, account_id, period, start in sorted(dirty):
                views = list(
                    await repository.views_started(
                        session, video_id, start, start + PERIODS[period]
                    )
                )
                row = rollup_of(video_id, account_id, period, start, views) if views else None
                await repository.replace_rollup(session, video_id, period, start, row)
            await repository.move_cursor(session, new[-1][0])
            read += len(new)


async def purge_raw_events(db: Database, now: datetime, keep_days: int) -> int:
    async with db.transaction() as session:
        read_up_to = await repository.cursor(session)
        return await repository.purge_events(session, now - timedelta(days=keep_days), read_up_to)
