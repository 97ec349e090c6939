"""Every query of analytics: intake writes, the rollup job's reads and writes, and the reads of
the two query endpoints (rollups only)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import (
    AnalyticsCursor,
    AnalyticsDrop,
    AnalyticsEvent,
    AnalyticsRollup,
    AnalyticsView,
    BandwidthUsage,
    Video,
)

CURSOR = "rollup"


def _insert_for(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def playable_videos(session: AsyncSession, ids: Iterable[str]) -> dict[str, Video]:
    stmt = select(Video).where(
        Video.id.in_(list(ids)), Video.status == "ready", Video.deleted_at.is_(None)
    )
    return {v.id: v for v in (await session.scalars(stmt)).all()}


async def add_events(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert what is new: an event already in (a batch sent twice) is left as it was."""
    if rows:
        # Rows as parameters of a Core INSERT, not values in the statement: its compiled form is
        # cached, and SQLAlchemy sends one multi-row INSERT ("insertmanyvalues"; the ORM's bulk
        # path would split a batch wherever its rows' NULL columns differ).
        stmt = _insert_for(session)(AnalyticsEvent.__table__).on_conflict_do_nothing(
            index_elements=["video_id", "view_id", "seq"]
        )
        await session.execute(stmt, list(rows))


async def add_drops(
    session: AsyncSession, hour: datetime, counts: Mapping[tuple[str, str], int]
) -> None:
    """Add to the (account, reason) counters of `hour`."""
    if not counts:
        return
    rows = [
        {"account_id": account_id, "hour": hour, "reason": reason, "count": n}
        for (account_id, reason), n in sorted(counts.items())
    ]
    stmt = _insert_for(session)(AnalyticsDrop).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["account_id", "hour", "reason"],
        set_={"count": AnalyticsDrop.count + stmt.excluded.count},
    )
    await session.execute(stmt)


async def cursor(session: AsyncSession) -> int:
    row = await session.get(AnalyticsCursor, CURSOR, with_for_update=True)
    return row.last_event_id if row else 0


async def move_cursor(session: AsyncSession, last_event_id: int) -> None:
    row = await session.get(AnalyticsCursor, CURSOR)
    if row is None:
        session.add(AnalyticsCursor(name=CURSOR, last_event_id=last_event_id))
    else:
        row.last_event_id = last_event_id


async def events_after(
    session: AsyncSession, after_id: int, limit: int
) -> Sequence[tuple[int, str, str, datetime]]:
    """(id, video, view, received_at) of the next events the rollup has not read, by id."""
    stmt = (
        select(
            AnalyticsEvent.id,
            AnalyticsEvent.video_id,
            AnalyticsEvent.view_id,
            AnalyticsEvent.received_at,
        )
        .where(AnalyticsEvent.id > after_id)
        .order_by(AnalyticsEvent.id)
        .limit(limit)
    )
    return [(r[0], r[1], r[2], r[3]) for r in (await session.execute(stmt)).all()]


VIEWS_PER_STATEMENT = 500  # (video, view) pairs in one IN list: bound parameters stay few


def _of_views(
    model: type[AnalyticsEvent] | type[AnalyticsView], views: Sequence[tuple[str, str]]
) -> Iterator[ColumnElement[bool]]:
    """WHERE clauses naming `views` (video, view) a chunk at a time."""
    for first in range(0, len(views), VIEWS_PER_STATEMENT):
        chunk = views[first : first + VIEWS_PER_STATEMENT]
        yield tuple_(model.video_id, model.view_id).in_(chunk)


async def view_starts(
    session: AsyncSession, keys: Sequence[tuple[str, str]]
) -> Sequence[tuple[str, str, datetime]]:
    """(video, account, started_at) of the summaries these views have now."""
    columns = (AnalyticsView.video_id, AnalyticsView.account_id, AnalyticsView.started_at)
    found: list[tuple[str, str, datetime]] = []
    for where in _of_views(AnalyticsView, keys):
        found += [
            (r[0], r[1], r[2]) for r in (await session.execute(select(*columns).where(where)))
        ]
    return found


async def events_of_views(
    session: AsyncSession, views: Sequence[tuple[str, str]]
) -> Sequence[AnalyticsEvent]:
    found: list[AnalyticsEvent] = []
    for where in _of_views(AnalyticsEvent, views):
        found += (await session.scalars(select(AnalyticsEvent).where(where))).all()
    return found


async def durations(session: AsyncSession, video_ids: Iterable[str]) -> dict[str, float]:
    """The videos' lengths; a deleted video is left out (its viewings are no longer rolled up)."""
    stmt = select(Video.id, Video.duration_s).where(
        Video.id.in_(list(video_ids)), Video.deleted_at.is_(None)
    )
    return {r[0]: float(r[1] or 0.0) for r in (await session.execute(stmt)).all()}


async def replace_views(
    session: AsyncSession, keys: Sequence[tuple[str, str]], rows: Sequence[AnalyticsView]
) -> None:
    for where in _of_views(AnalyticsView, keys):
        await session.execute(delete(AnalyticsView).where(where))
    session.add_all(rows)
    await session.flush()


async def views_started(
    session: AsyncSession, video_id: str, start: datetime, end: datetime
) -> Sequence[AnalyticsView]:
    stmt = select(AnalyticsView).where(
        AnalyticsView.video_id == video_id,
        AnalyticsView.started_at >= start,
        AnalyticsView.started_at < end,
    )
    return (await session.scalars(stmt)).all()


async def replace_rollup(
    session: AsyncSession, video_id: str, period: str, start: datetime, row: AnalyticsRollup | None
) -> None:
    await session.execute(
        delete(AnalyticsRollup).where(
            AnalyticsRollup.video_id == video_id,
            AnalyticsRollup.period == period,
            AnalyticsRollup.start == start,
        )
    )
    if row is not None:
        session.add(row)


async def purge_events(session: AsyncSession, before: datetime, up_to_id: int) -> int:
    """Raw events older than `before` the rollup has read; returns how many went."""
    result = await session.execute(
        delete(AnalyticsEvent).where(
            AnalyticsEvent.received_at < before, AnalyticsEvent.id <= up_to_id
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def rollups(
    session: AsyncSession, video_id: str, period: str, start: datetime, end: datetime
) -> Sequence[AnalyticsRollup]:
    stmt = (
        select(AnalyticsRollup)
        .where(
            AnalyticsRollup.video_id == video_id,
            AnalyticsRollup.period == period,
            AnalyticsRollup.start >= start,
            AnalyticsRollup.start < end,
        )
        .order_by(AnalyticsRollup.start)
    )
    return (await session.scalars(stmt)).all()


def _figures() -> tuple[Any, ...]:
    return (
        func.coalesce(func.sum(AnalyticsRollup.views), 0),
        func.coalesce(func.sum(AnalyticsRollup.unique_viewers), 0),
        func.coalesce(func.sum(AnalyticsRollup.watch_time_s), 0.0),
        func.coalesce(func.sum(AnalyticsRollup.completion_sum), 0.0),
    )


def _in_range(account_id: str, start: datetime, end: datetime) -> tuple[Any, ...]:
    return (
        AnalyticsRollup.account_id == account_id,
        AnalyticsRollup.period == "day",
        AnalyticsRollup.start >= start,
        AnalyticsRollup.start < end,
    )


async def account_totals(
    session: AsyncSession, account_id: str, start: datetime, end: datetime
) -> tuple[int, int, float, float]:
    row = (
        await session.execute(select(*_figures()).where(*_in_range(account_id, start, end)))
    ).one()
    return int(row[0]), int(row[1]), float(row[2]), float(row[3])


async def top_videos(
    session: AsyncSession, account_id: str, start: datetime, end: datetime, limit: int
) -> Sequence[tuple[str, str, int, int, float, float]]:
    stmt = (
        select(AnalyticsRollup.video_id, Video.title, *_figures())
        .join(Video, Video.id == AnalyticsRollup.video_id)
        .where(*_in_range(account_id, start, end), Video.deleted_at.is_(None))
        .group_by(AnalyticsRollup.video_id, Video.title)
        .order_by(func.sum(AnalyticsRollup.views).desc(), AnalyticsRollup.video_id)
        .limit(limit)
    )
    return [
        (r[0], r[1] or "", int(r[2]), int(r[3]), float(r[4]), float(r[5]))
        for r in (await session.execute(stmt)).all()
    ]


async def bandwidth_by_day(
    session: AsyncSession, account_id: str, first: date, last: date, video_id: str | None = None
) -> Sequence[tuple[date, int]]:
    stmt = (
        select(BandwidthUsage.day, func.sum(BandwidthUsage.bytes))
        .where(
            BandwidthUsage.account_id == account_id,
            BandwidthUsage.day >= first,
            BandwidthUsage.day <= last,
        )
        .group_by(BandwidthUsage.day)
        .order_by(BandwidthUsage.day)
    )
    if video_id is not None:
        stmt = stmt.where(BandwidthUsage.video_id == video_id)
    return [(r[0], int(r[1])) for r in (await session.execute(stmt)).all()]


async def drops(
    session: AsyncSession, account_id: str, start: datetime, end: datetime
) -> Counter[str]:
    stmt = (
        select(AnalyticsDrop.reason, func.sum(AnalyticsDrop.count))
        .where(
            AnalyticsDrop.account_id == account_id,
            AnalyticsDrop.hour >= start,
            AnalyticsDrop.hour < end,
        )
        .group_by(AnalyticsDrop.reason)
    )
    return Counter({r[0]: int(r[1]) for r in (await session.execute(stmt)).all()})
