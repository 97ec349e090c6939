"""The delivery engine of a worker running the `webhooks` queue: it leases due deliveries in
batches, POSTs them concurrently on one pooled client, and records the outcomes in batches.

The delivery row is the durable state: `next_attempt_at` holds a backoff (a restart, or a
SIGKILL, loses nothing; no worker sleeps on it) and `lease_expires_at` an attempt in flight (if
its dispatcher dies, the lease lapses and another takes the attempt up: at least once; receivers
dedupe on `webhook-id`). One workflow per attempt on the job engine cost a dozen transactions
per delivery; here a batch of them shares three."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import timedelta

import httpx

from moviie.config import Settings
from moviie.db.engine import Database
from moviie.db.types import utcnow
from moviie.log import get_logger
from moviie.webhooks import repository
from moviie.webhooks.delivery import Outcome, Request, build_request, record_outcomes
from moviie.webhooks.dispatch import on_deliveries_due
from moviie.webhooks.sender import post

# How long an attempt stays ours: its POST's timeout, then as long again (and 5 s) to record
# the outcome. Past that, a dispatcher that died is presumed dead and the attempt is taken up.
LEASE_EXTRA_S = 5.0
MAX_RECORD_BATCH = 500
RECORD_RETRY_S = 1.0
log = get_logger("moviie.webhooks")


class Dispatcher:
    def __init__(self, settings: Settings, db: Database, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.db = db
        self.client = client
        self._lease = timedelta(seconds=2 * settings.webhook_timeout_s + LEASE_EXTRA_S)
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._outcomes: list[Outcome] = []
        self._wake = asyncio.Event()  # something may be claimable
        self._to_record = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Callable[[], None] = lambda: None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def wake() -> None:  # called from whichever thread committed
            loop.call_soon_threadsafe(self._wake.set)

        self._unsubscribe = on_deliveries_due(wake)
        self._tasks = [
            asyncio.create_task(self._claim_forever(), name="webhooks-claim"),
            asyncio.create_task(self._record_forever(), name="webhooks-record"),
        ]

    async def stop(self, grace_s: float) -> None:
        """Stop claiming, let attempts in flight finish for up to `grace_s`, record what
        finished and hand back what did not (another worker takes it up at once)."""
        self._unsubscribe()
        claimer, recorder = self._tasks
        claimer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await claimer
        if self._in_flight:
            await asyncio.wait(list(self._in_flight.values()), timeout=grace_s)
        unfinished = list(self._in_flight)
        for task in self._in_flight.values():
            task.cancel()
        recorder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await recorder
        try:
            await self._record_pending()
            if unfinished:
                async with self.db.transaction() as session:
                    await repository.release_leases(session, unfinished)
        except Exception:  # their leases lapse instead; nothing is lost
            log.exception("webhook_dispatcher_stop_failed")

    async def _claim_forever(self) -> None:
        while True:
            self._wake.clear()
            free = self.settings.webhook_concurrency - len(self._in_flight)
            if free > 0:
                try:
                    for request in await self._claim(free):
                        self._start(request)
                except Exception:
                    log.exception("webhook_claim_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.webhook_polling_interval_s)

    async def _claim(self, limit: int) -> list[Request]:
        now = utcnow()
        per_endpoint = self.settings.webhook_endpoint_concurrency
        async with self.db.transaction(write=False) as session:
            if not await repository.any_claimable(session, now, per_endpoint):
                return []
        async with self.db.transaction() as session:
            ids = await repository.claim_due(
                session, now, now + self._lease, limit=limit, per_endpoint=per_endpoint
            )
            if not ids:
                return []
            rows = await repository.claimed_rows(session, ids)
            return [build_request(self.settings, *row) for row in rows]

    def _start(self, request: Request) -> None:
        task = asyncio.create_task(self._attempt(request))
        self._in_flight[request.delivery_id] = task

    async def _attempt(self, request: Request) -> None:
        if request.fault is not None:
            result = request.fault
        else:
            result = await post(
                self.client,
                request.url,
                request.body,
                request.headers,
                timeout_s=self.settings.webhook_timeout_s,
            )
        self._outcomes.append(Outcome(request.delivery_id, request.number, result, utcnow()))
        del self._in_flight[request.delivery_id]
        self._to_record.set()

    async def _record_forever(self) -> None:
        while True:
            await self._to_record.wait()
            self._to_record.clear()
            try:
                await self._record_pending()
            except Exception:
                log.exception("webhook_record_failed")
                await asyncio.sleep(RECORD_RETRY_S)
                self._to_record.set()
                continue
            self._wake.set()  # their leases are released: more may be claimable

    async def _record_pending(self) -> None:
        """Record what has finished, in batches; on failure the batch stays to be retried (its
        leases meanwhile keep anyone else from repeating its attempts)."""
        while self._outcomes:
            batch: Sequence[Outcome] = self._outcomes[:MAX_RECORD_BATCH]
            async with self.db.transaction() as session:
                await record_outcomes(session, self.settings, batch)
            del self._outcomes[: len(batch)]
