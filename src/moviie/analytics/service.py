"""Taking player events in (each checked; what fails a check is dropped and counted, never an
error for the whole batch) and answering the two analytics queries from the rollups."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from moviie.analytics import repository
from moviie.analytics.beacon import beacon_valid
from moviie.analytics.rollup import PERIODS, period_start
from moviie.analytics.schemas import (
    AudienceFigures,
    EventBatch,
    MonthBandwidth,
    OverviewOut,
    PlayerEventIn,
    SeriesPoint,
    TopVideo,
    VideoAnalyticsOut,
)
from moviie.analytics.viewings import BUCKETS
from moviie.db.models import Video
from moviie.errors import ValidationFailed
from moviie.playback.tokens import PlaybackForbidden, verify_playback_token
from moviie.videos import service as videos

POSITION_SLACK_S = 5.0
# A view's events are numbered by its player: a heartbeat every 10 s plus seeks, a few a second
# at most; beyond this, a batch is a replay or a forgery (each rollup re-reads a view whole).
SEQ_PER_SECOND = 2
MIN_SEQ_CAP = 600
MAX_POINTS = 10_000
TOP_VIDEOS = 10


class RangeTooLong(ValidationFailed):
    code = "range_too_long"
    title = "The range holds too many intervals"


@dataclass
class Intake:
    rows: list[dict[str, Any]] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    # Drops attributable to an account (its video is known), for its counters.
    by_account: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def accepted(self) -> int:
        return len(self.rows)

    def drop(self, reason: str, account_id: str | None) -> None:
        self.dropped[reason] += 1
        if account_id is not None:
            self.by_account[(account_id, reason)] += 1


def _position_problem(event: PlayerEventIn, duration_s: float) -> str | None:
    limit = duration_s + POSITION_SLACK_S
    positions = [event.position_s] + ([event.from_s] if event.from_s is not None else [])
    if any(not 0 <= p <= limit for p in positions):  # NaN fails too
        return "bad_position"
    if (event.type == "seek") != (event.from_s is not None):
        return "bad_event"
    if event.seq > max(MIN_SEQ_CAP, SEQ_PER_SECOND * duration_s):
        return "bad_event"  # more events than a player sends over the whole video
    return None


async def check_events(
    session: AsyncSession,
    batch: EventBatch,
    *,
    account_id: str | None,
    secret: bytes,
    now: datetime,
    limited: bool = False,
) -> Intake:
    """What passes every check, and what was dropped why (reads only). `account_id`: the
    key's account (None: each event must carry the embed page's beacon for its video).
    `limited`: the viewer is over its budget."""
    intake = Intake()
    found = await repository.playable_videos(session, {e.video_id for e in batch.events})
    granted: dict[tuple[str, str], bool] = {}
    rows = intake.rows
    for event in batch.events:
        video = found.get(event.video_id)
        if video is None or (account_id is not None and video.account_id != account_id):
            intake.drop("unknown_video", account_id)
            continue
        owner = video.account_id
        if limited:
            intake.drop("rate_limited", owner)
            continue
        if account_id is None:
            if not event.beacon or not beacon_valid(secret, video.id, event.beacon):
                # Not the owner's doing: anyone can post a wrong beacon for a public id.
                intake.drop("bad_beacon", None)
                continue
        elif video.privacy == "private" and not await _token_grants(
            session, granted, video, event.token
        ):
            intake.drop("video_private", owner)
            continue
        problem = _position_problem(event, float(video.duration_s or 0.0))
        if problem is not None:
            intake.drop(problem, owner)
            continue
        rows.append(
            {
                "account_id": owner,
                "video_id": video.id,
                "view_id": event.view_id,
                "viewer_id": batch.viewer_id,
                "type": event.type,
                "seq": event.seq,
                "position_s": event.position_s,
                "from_s": event.from_s,
                "rendition": event.rendition,
                "received_at": now,
            }
        )
    return intake


async def record_intake(session: AsyncSession, intake: Intake, now: datetime) -> None:
    await repository.add_events(session, intake.rows)
    await repository.add_drops(session, period_start(now, "hour"), intake.by_account)


async def _token_grants(
    session: AsyncSession, granted: dict[tuple[str, str], bool], video: Video, token: str | None
) -> bool:
    if not token:
        return False
    key = (video.id, token)
    if key not in granted:
        try:
            await verify_playback_token(session, video.account_id, video.id, token)
            granted[key] = True
        except PlaybackForbidden:
            granted[key] = False
    return granted[key]


def _figures(views: int, unique: int, watch: float, completion_sum: float) -> dict[str, Any]:
    return {
        "views": views,
        "unique_viewers": unique,
        "watch_time_s": round(watch, 3),
        "completion_rate": round(completion_sum / views, 4) if views else 0.0,
    }


def _utc(when: datetime) -> datetime:
    """A time given without a zone is UTC."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _bounds(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    try:
        end = _utc(end or now)
        start = _utc(start or end - timedelta(days=30))
    except OverflowError:
        raise ValidationFailed("`from` and `to` must be ordinary dates.", param="from") from None
    if start >= end:
        raise ValidationFailed("`from` must be before `to`.", param="from")
    return start, end


async def video_analytics(
    session: AsyncSession,
    account_id: str,
    video_id: str,
    *,
    start: datetime | None,
    end: datetime | None,
    interval: str,
    now: datetime,
) -> VideoAnalyticsOut:
    video = await videos.get_video(session, account_id, video_id)
    start, end = _bounds(start, end, now)
    first = period_start(start, interval)
    step = PERIODS[interval]
    if (end - first) / step > MAX_POINTS:
        raise RangeTooLong(
            f"At most {MAX_POINTS} {interval}s at once; narrow the range or use `interval=day`.",
            param="interval",
        )
    rows = {r.start: r for r in await repository.rollups(session, video.id, interval, first, end)}
    series, at = [], first
    retention = [0] * BUCKETS
    renditions: Counter[str] = Counter()
    totals = [0, 0, 0.0, 0.0]
    while at < end:
        row = rows.get(at)
        figures = (
            (row.views, row.unique_viewers, row.watch_time_s, row.completion_sum)
            if row
            else (0, 0, 0.0, 0.0)
        )
        series.append(SeriesPoint(start=at, **_figures(*figures)))
        totals = [a + b for a, b in zip(totals, figures, strict=True)]
        if row is not None:
            retention = [a + b for a, b in zip(retention, row.retention, strict=True)]
            renditions.update({k: float(v) for k, v in row.renditions.items()})
        at += step
    views = int(totals[0])
    watched = sum(renditions.values())
    bandwidth = await repository.bandwidth_by_day(
        session, account_id, first.date(), (end - timedelta(microseconds=1)).date(), video.id
    )
    return VideoAnalyticsOut(
        video_id=video.id,
        from_=first,
        to=end,
        interval="hour" if interval == "hour" else "day",
        totals=AudienceFigures(**_figures(views, int(totals[1]), totals[2], totals[3])),
        series=series,
        retention=[round(n / views, 4) if views else 0.0 for n in retention],
        renditions={k: round(v / watched, 4) for k, v in sorted(renditions.items())}
        if watched
        else {},
        bandwidth_bytes=sum(n for _, n in bandwidth),
    )


async def overview(
    session: AsyncSession,
    account_id: str,
    *,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> OverviewOut:
    start, end = _bounds(start, end, now)
    first = period_start(start, "day")
    totals = await repository.account_totals(session, account_id, first, end)
    top = await repository.top_videos(session, account_id, first, end, TOP_VIDEOS)
    days = await repository.bandwidth_by_day(
        session, account_id, first.date(), (end - timedelta(microseconds=1)).date()
    )
    months: Counter[str] = Counter()
    for day, n in days:
        months[day.strftime("%Y-%m")] += n
    return OverviewOut(
        from_=first,
        to=end,
        totals=AudienceFigures(**_figures(*totals)),
        top_videos=[
            TopVideo(video_id=video_id, title=title, **_figures(v, u, w, c))
            for video_id, title, v, u, w, c in top
        ],
        bandwidth=[MonthBandwidth(month=m, bytes=n) for m, n in sorted(months.items())],
        bandwidth_bytes=sum(months.values()),
        dropped=dict(await repository.drops(session, account_id, first, end)),
    )
