"""Counts the bytes of media a process serves and writes them in batches: a segment request
never waits on a database write, and a busy video costs one upsert per flush, not per request."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

from moviie.db.engine import Database
from moviie.db.types import utcnow
from moviie.log import get_logger
from moviie.usage.repository import UsageKey, add_bandwidth

log = get_logger("moviie.usage")


class BandwidthMeter:
    def __init__(self, db: Database, flush_interval_s: float = 5.0) -> None:
        self._db = db
        self._interval = flush_interval_s
        self._counts: Counter[UsageKey] = Counter()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def count(self, account_id: str, video_id: str, n: int) -> None:
        if n > 0:
            self._counts[(account_id, utcnow().date(), video_id)] += n

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
                    await add_bandwidth(session, batch)
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
