"""Per-key request budgets with the `limits` library: in process, or Redis for many processes."""

from __future__ import annotations

import math
import time
from contextvars import ContextVar
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from moviie.errors import RateLimited

# The budget a request was counted against, so that every response to it (errors included)
# carries the RateLimit-* headers; set by authentication, read by the outermost middleware.
current_verdict: ContextVar[Verdict | None] = ContextVar("current_verdict", default=None)


@dataclass(frozen=True)
class Budget:
    name: str
    per_minute: int


@dataclass(frozen=True)
class Verdict:
    limit: int
    remaining: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }


class RateLimiter:
    def __init__(self, redis_url: str | None) -> None:
        self.storage: Storage = (
            RedisStorage(f"async+{redis_url}", implementation="redispy")
            if redis_url
            else MemoryStorage()
        )
        self._strategy = SlidingWindowCounterRateLimiter(self.storage)

    async def hit(self, budget: Budget, identity: str) -> Verdict:
        """Count one request against `budget`; raises RateLimited (429) once it is spent."""
        item = RateLimitItemPerMinute(budget.per_minute, namespace=f"moviie:{budget.name}")
        allowed = await self._strategy.hit(item, identity)
        stats = await self._strategy.get_window_stats(item, identity)
        reset_s = max(1, math.ceil(stats.reset_time - time.time()))
        verdict = Verdict(limit=budget.per_minute, remaining=stats.remaining, reset_s=reset_s)
        current_verdict.set(verdict)
        if not allowed:
            error = RateLimited(
                f"This key may make {budget.per_minute} requests per minute here; "
                f"retry in {reset_s} s.",
                retry_after=reset_s,
            )
            error.headers["Retry-After"] = str(reset_s)  # RateLimit-*: see current_verdict
            raise error
        return verdict

    async def reset(self) -> None:
        await self.storage.reset()
