"""`last_used_at` stamps, written in the background at most once a minute per key."""

from __future__ import annotations

import asyncio

from moviie.api_keys import service as api_keys
from moviie.db.engine import Database
from moviie.db.types import utcnow
from moviie.log import get_logger

log = get_logger("moviie.auth")


class LastUsedRecorder:
    """One stamp in flight per key; a request never waits for it nor holds a second connection
    while holding its own (which could starve the pool under load). A lost stamp costs nothing."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: dict[str, asyncio.Task[None]] = {}

    def record(self, key_id: str) -> None:
        if key_id not in self._pending:
            self._pending[key_id] = asyncio.create_task(self._stamp(key_id))

    async def _stamp(self, key_id: str) -> None:
        try:
            async with self._db.transaction() as session:
                await api_keys.record_use(session, key_id, utcnow())
        except Exception:
            log.warning("last_used_at_not_recorded", key_id=key_id, exc_info=True)
        finally:
            self._pending.pop(key_id, None)

    async def close(self) -> None:
        """Let stamps in flight finish, so none holds a connection when the engine goes."""
        if self._pending:
            await asyncio.gather(*self._pending.values(), return_exceptions=True)
