"""Bandwidth rows: added to in batches by the meter, summed for the month's usage."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import BandwidthUsage

UsageKey = tuple[str, date, str]  # account id, UTC day, video id


async def add_bandwidth(session: AsyncSession, counts: Mapping[UsageKey, int]) -> None:
    """Add bytes to each (account, day, video) row, creating it on first use."""
    if not counts:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    rows = [
        {"account_id": account_id, "day": day, "video_id": video_id, "bytes": n}
        for (account_id, day, video_id), n in sorted(counts.items())  # one lock order
    ]
    stmt = dialect.insert(BandwidthUsage).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["account_id", "day", "video_id"],
        set_={"bytes": BandwidthUsage.bytes + stmt.excluded.bytes},
    )
    await session.execute(stmt)


async def bandwidth_since(session: AsyncSession, account_id: str, since: date) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(BandwidthUsage.bytes), 0)).where(
            BandwidthUsage.account_id == account_id, BandwidthUsage.day >= since
        )
    )
    return int(total or 0)


async def bandwidth_between(session: AsyncSession, account_id: str, first: date, end: date) -> int:
    """Bytes served on the days in [first, end)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(BandwidthUsage.bytes), 0)).where(
            BandwidthUsage.account_id == account_id,
            BandwidthUsage.day >= first,
            BandwidthUsage.day < end,
        )
    )
    return int(total or 0)


async def bandwidth_of_video(session: AsyncSession, account_id: str, video_id: str) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(BandwidthUsage.bytes), 0)).where(
            BandwidthUsage.account_id == account_id, BandwidthUsage.video_id == video_id
        )
    )
    return int(total or 0)


def month_start(day: date) -> date:
    return day.replace(day=1)
