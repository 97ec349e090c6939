"""The monthly renewal of plan credits (a maintenance schedule, daily: idempotent per month)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dbos import DBOS

from moviie.credits import repository, service
from moviie.db.types import utcnow
from moviie.jobs.runtime import runtime


@DBOS.step()
async def renew_monthly_credits_step() -> int:
    now = utcnow()
    renewed = 0
    async with runtime().db.transaction(write=False) as session:
        due = await repository.accounts_to_renew(session, service.month_start(now))
    for account_id in due:  # one transaction each: a large install never holds one long lock
        async with runtime().db.transaction() as session:
            renewed += await service.renew_month(session, account_id, now)
    return renewed


@DBOS.workflow()
async def scheduled_renew_monthly_credits(_when: datetime, _context: Any) -> int:
    return await renew_monthly_credits_step()
