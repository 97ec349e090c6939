"""Recording media served: the meter's batches added to the day rows, and `bandwidth.threshold`
when a batch takes an account's month past 80% or 100% of its plan (once each a month: a
month's total only grows, and each account's row is locked while its batch is counted, so two
processes flushing at once never both see the same crossing)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import Account
from moviie.events.service import emit_event
from moviie.plans.catalog import account_plan
from moviie.usage.repository import UsageKey, add_bandwidth, bandwidth_between, month_start
from moviie.usage.thresholds import crossed


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


async def record_bandwidth(session: AsyncSession, counts: Mapping[UsageKey, int]) -> None:
    added: Counter[tuple[str, date]] = Counter()
    for (account_id, day, _video_id), n in counts.items():
        added[(account_id, month_start(day))] += n
    before: dict[tuple[str, date], int] = {}
    plans: dict[str, Account] = {}
    for account_id, month in sorted(added):  # one lock order
        if account_id not in plans:
            stmt = select(Account).where(Account.id == account_id).with_for_update()
            found = (await session.scalars(stmt)).one_or_none()
            if found is None:
                continue
            plans[account_id] = found
        before[(account_id, month)] = await bandwidth_between(
            session, account_id, month, next_month(month)
        )
    await add_bandwidth(session, counts)
    for (account_id, month), used_before in sorted(before.items()):
        quota = account_plan(plans[account_id].plan).bandwidth_bytes_month
        used = used_before + added[(account_id, month)]
        for percent in crossed(used_before, used, quota):
            data = {
                "used_bytes": used,
                "quota_bytes": quota,
                "percent": percent,
                "month": f"{month:%Y-%m}",
            }
            await emit_event(session, account_id, "bandwidth.threshold", data)
