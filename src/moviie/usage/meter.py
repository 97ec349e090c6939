"""Counts the bytes of media a process serves and writes them in batches: a segment request
never waits on a database write, and a busy video costs one upsert per flush, not per request."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter

from moviie.db.engine import Database
from moviie.db.models import Account
from moviie.db.types import utcnow
from moviie.errors import MoviieError
from moviie.log import get_logger
from moviie.plans.catalog import account_plan
from moviie.usage.repository import UsageKey, bandwidth_since, month_start
from moviie.usage.service import record_bandwidth

log = get_logger("moviie.usage")
QUOTA_CACHE_S = 30.0


class BandwidthQuotaExceeded(MoviieError):
    status = 402
    code = "bandwidth_quota_exceeded"
    title = "The plan's bandwidth for this month is used up"


class BandwidthMeter:
    def __init__(self, db: Database, flush_interval_s: float = 5.0) -> None:
        self._db = db
        self._interval = flush_interval_s
        self._counts: Counter[UsageKey] = Counter()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # account -> (hard quota or None, bytes this month when read, read until)
        self._quotas: dict[str, tuple[int | None, int, float]] = {}
        # account -> bytes served since its quota was read and not in that reading (flushed or not)
        self._served: Counter[str] = Counter()

    def count(self, account_id: str, video_id: str, n: int) -> None:
        if n > 0:
            self._counts[(account_id, utcnow().date(), video_id)] += n
            self._served[account_id] += n

    async def check_quota(self, account_id: str) -> None:
        """402 once the month's bandwidth is used up, for plans with a hard limit (others
        keep playing: `bandwidth.threshold` tells). The month's total is read at most every
        30 s per account and process; what this process served since is added."""
        now = time.monotonic()
        cached = self._quotas.get(account_id)
        if cached is None or cached[2] < now:
            await self._read_quota(account_id, now)
            cached = self._quotas[account_id]
        quota, used, _ = cached
        if quota is None:
            return
        if used + self._served[account_id] >= quota:
            raise BandwidthQuotaExceeded(
                "This account's plan serves no more media this month.", quota_bytes=quota
            )

    async def _read_quota(self, account_id: str, now: float) -> None:
        # Under the flush lock: every byte counted is then either written (in the reading) or
        # still pending (in the recount), never in between.
        async with self._lock:
            fresh = self._quotas.get(account_id)
            if fresh is not None and fresh[2] >= now:
                return  # another request read it while this one waited
            async with self._db.transaction(write=False) as session:
                account = await session.get(Account, account_id)
                plan = account_plan(account.plan) if account is not None else None
                quota = plan.bandwidth_bytes_month if plan and plan.bandwidth_hard_limit else None
                used = 0
                if quota is not None:
                    used = await bandwidth_since(session, account_id, month_start(utcnow().date()))
            self._quotas[account_id] = (quota, used, now + QUOTA_CACHE_S)
            # What is still unwritten is not in the reading; once every 30 s, not per request.
            self._served[account_id] = sum(
                n for (account, _, _), n in self._counts.items() if account == account_id
            )

    def start(self) -> None:
        self._task = asyncio.create_task(self._flush_forever())

    async def flush(self) -> None:
        """Write what was counted; on a database error the counts are kept for the next try."""
        async with self._lock:
            if not self._counts:
                return
            batch, self._counts = self._counts, Counter()
            try:
                async with self._db.transaction() as session:
                    await record_bandwidth(session, batch)
            except Exception:
                self._counts.update(batch)
                raise

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await self.flush()
        except Exception:
            log.exception("bandwidth_not_recorded", pending=sum(self._counts.values()))

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:
                log.warning("bandwidth_flush_failed", exc_info=True)
