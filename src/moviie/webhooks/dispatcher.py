"""The delivery engine of a worker running the `webhooks` queue.

The delivery row is the durable state: `next_attempt_at` holds a backoff (a restart, or a
SIGKILL, loses nothing; no worker sleeps on it) and `lease_expires_at` an attempt this worker
has taken (if the worker dies, the lease lapses and another takes the attempt up: at least
once; receivers dedupe on `webhook-id`).

One loop, one transaction per turn: record every outcome that came in since the last turn and
lease more due deliveries. POSTs run concurrently on one pooled client, at most
`webhook_concurrency` in all and `webhook_endpoint_concurrency` per endpoint; the worker leases
up to twice that, so the next attempt for an endpoint starts the moment one ends instead of
waiting for a turn. (One workflow per attempt on the job engine cost a dozen transactions per
delivery; here a turn's batch shares one.)"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, deque
from collections.abc import Callable
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.config import Settings
from moviie.db.engine import Database
from moviie.db.types import utcnow
from moviie.log import get_logger
from moviie.webhooks import repository
from moviie.webhooks.delivery import Outcome, Request, build_request, record_outcomes
from moviie.webhooks.dispatch import on_deliveries_due
from moviie.webhooks.sender import post

MAX_RECORD_BATCH = 500
# Leases held per slot: one posting, the rest ready to go, so POSTs do not wait for a turn.
PREFETCH = 4
# While POSTs are in flight, turns come at most this often: each records a batch, not one.
BUSY_TURN_INTERVAL_S = 0.02
RETRY_AFTER_FAILURE_S = 1.0
log = get_logger("moviie.webhooks")


class Dispatcher:
    def __init__(self, settings: Settings, db: Database, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.db = db
        self.client = client
        # An attempt may wait in `ready` for PREFETCH - 1 rounds of its endpoint's POSTs, take
        # its own, then be recorded: past that (and 5 s), a silent worker is presumed dead.
        self._lease = timedelta(seconds=(PREFETCH + 1) * settings.webhook_timeout_s + 5)
        self._ready: dict[str, deque[Request]] = {}  # leased, by endpoint, not yet sent
        self._posting: dict[str, asyncio.Task[None]] = {}  # by delivery
        self._posting_per_endpoint: Counter[str] = Counter()
        self._outcomes: list[Outcome] = []
        self._wake = asyncio.Event()  # an outcome came in, or something may be due
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._unsubscribe: Callable[[], None] = lambda: None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def wake() -> None:  # called from whichever thread committed
            loop.call_soon_threadsafe(self._wake.set)

        self._unsubscribe = on_deliveries_due(wake)
        self._loop_task = asyncio.create_task(self._run(), name="webhooks-dispatcher")

    async def stop(self, grace_s: float) -> None:
        """Stop leasing, let POSTs in flight finish for up to `grace_s`, record what finished
        and hand back the rest (another worker takes it up at once)."""
        self._unsubscribe()
        # The loop ends after its turn, never inside one: a transaction cancelled mid-query can
        # leave its connection (and the claim lock or endpoint row locks) held on PostgreSQL,
        # and the last transaction below would then wait on it for ever.
        self._stopping.set()
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task
        unsent = [r.delivery_id for queue in self._ready.values() for r in queue]
        self._ready.clear()
        if self._posting:
            await asyncio.wait(list(self._posting.values()), timeout=grace_s)
        unsent += list(self._posting)
        cut = list(self._posting.values())
        for task in cut:
            task.cancel()
        await asyncio.gather(*cut, return_exceptions=True)
        try:
            async with self.db.transaction() as session:
                await self._record(session)
                await repository.release_leases(session, unsent)
        except Exception:  # their leases lapse instead; nothing is lost
            log.exception("webhook_dispatcher_stop_failed")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                await self._turn()
            except Exception:
                log.exception("webhook_dispatch_failed")  # outcomes are kept for the next turn
                await _until(self._stopping, RETRY_AFTER_FAILURE_S)
                continue
            await _until(self._wake, self.settings.webhook_polling_interval_s)

    async def _turn(self) -> None:
        """Record what finished and lease what is due, in one transaction; start what can go."""
        leased = sum(len(q) for q in self._ready.values()) + len(self._posting)
        room = PREFETCH * self.settings.webhook_concurrency - leased
        if not self._outcomes:
            if room <= 0:
                return
            async with self.db.transaction(write=False) as session:
                if not await repository.any_claimable(session, utcnow()):
                    return
        async with self.db.transaction() as session:
            recorded = await self._record(session)
            requests: list[Request] = []
            if room > 0:
                now = utcnow()
                ids = await repository.claim_due(
                    session,
                    now,
                    now + self._lease,
                    limit=room,
                    per_endpoint=PREFETCH * self.settings.webhook_endpoint_concurrency,
                )
                if ids:
                    rows = await repository.claimed_rows(session, ids)
                    requests = [build_request(self.settings, *row) for row in rows]
        del self._outcomes[:recorded]  # committed
        for request in requests:
            self._ready.setdefault(request.endpoint_id, deque()).append(request)
        for endpoint_id in list(self._ready):
            self._start_ready(endpoint_id)

    async def _record(self, session: AsyncSession) -> int:
        batch = self._outcomes[:MAX_RECORD_BATCH]
        if batch:
            await record_outcomes(session, self.settings, batch)
        return len(batch)

    def _start_ready(self, endpoint_id: str) -> None:
        queue = self._ready.get(endpoint_id)
        while (
            queue
            and len(self._posting) < self.settings.webhook_concurrency
            and self._posting_per_endpoint[endpoint_id] < self.settings.webhook_endpoint_concurrency
        ):
            request = queue.popleft()
            self._posting_per_endpoint[endpoint_id] += 1
            self._posting[request.delivery_id] = asyncio.create_task(self._send(request))
        if not queue:
            self._ready.pop(endpoint_id, None)

    async def _send(self, request: Request) -> None:
        if request.fault is not None:
            result = request.fault
        else:
            result = await post(
                self.client,
                request.url,
                request.body,
                request.headers(),
                timeout_s=self.settings.webhook_timeout_s,
            )
        self._outcomes.append(Outcome(request.delivery_id, request.number, result, utcnow()))
        del self._posting[request.delivery_id]
        self._posting_per_endpoint[request.endpoint_id] -= 1
        # The next attempt starts now: this endpoint's first, then any other's waiting for a
        # worker-wide slot.
        self._start_ready(request.endpoint_id)
        for endpoint_id in list(self._ready):
            self._start_ready(endpoint_id)
        self._wake.set()


async def _until(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
