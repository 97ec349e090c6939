"""The rollup of player events (a maintenance schedule, every minute) and the purge of raw
events past their retention."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dbos import DBOS

from moviie.analytics.rollup import purge_raw_events, roll_up
from moviie.db.types import utcnow
from moviie.jobs.runtime import runtime


@DBOS.step()
async def roll_up_step() -> int:
    rt = runtime()
    now = utcnow()
    read = await roll_up(rt.db, now)
    await purge_raw_events(rt.db, now, rt.settings.analytics_raw_retention_days)
    return read


@DBOS.workflow()
async def scheduled_roll_up_analytics(_when: datetime, _context: Any) -> int:
    return await roll_up_step()
