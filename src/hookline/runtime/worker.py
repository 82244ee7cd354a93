"""The delivery worker: claim due deliveries under a lease, send them concurrently,
record outcomes in batches, give back what it did not finish.

One worker runs per process (``hookline serve`` or ``hookline worker``). Concurrency is
bounded twice: ``worker_concurrency`` sends in flight overall, and a share per endpoint
that grows with its answers up to ``endpoint_concurrency`` and halves when a send gets
none (``domain/shares.py``), so slow or dead receivers cannot take every slot.
Deliveries claimed beyond an endpoint's share are released at once, and that endpoint
is left out of claims until a slot frees up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections import defaultdict
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta

from hookline import logs, tracing
from hookline.config import Settings
from hookline.domain.control import FailureWindow, slow_down
from hookline.domain.dispatch import ErrorClass, Outcome, decide
from hookline.domain.models import DeliveryStatus, Dispatch, Ordering
from hookline.domain.retry import RetryPolicy
from hookline.domain.shares import SendShares
from hookline.errors import HooklineError
from hookline.runtime.metrics import Metrics
from hookline.runtime.sender import Sender
from hookline.runtime.wakeup import LocalWakeup
from hookline.services.common import Clock, Context, utc_now
from hookline.store.control import Control
from hookline.store.deliveries import DeliveryRepository

log = logging.getLogger("hookline.worker")

STORE_RETRY_SECONDS = 1.0
# Attempts that got no answer from a receiver that was reached for: they shrink its share.
_UNANSWERED = frozenset({ErrorClass.TIMEOUT, ErrorClass.CONNECTION})


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.getrandbits(32):08x}"


class DeliveryWorker:
    def __init__(
        self,
        repo: DeliveryRepository,
        sender: Sender,
        settings: Settings,
        wakeup: LocalWakeup,
        metrics: Metrics,
        ctx: Context | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.repo = repo
        self.sender = sender
        self.settings = settings
        self.wakeup = wakeup
        self.metrics = metrics
        self.ctx = ctx or Context(clock=clock)
        self.clock = clock
        self.owner = worker_name()
        self.default_policy = settings.default_retry_policy
        self._stopping = asyncio.Event()
        self._sending: dict[str, asyncio.Task[None]] = {}
        self._per_endpoint: defaultdict[str, int] = defaultdict(int)
        self._shares = SendShares(settings.endpoint_concurrency)
        # Send slots taken by publishes of this process whose transaction has not
        # committed yet (see ``reserve``).
        self._reserved = 0
        # Webhooks this worker recorded a failed attempt for since their last recorded
        # success: a success of theirs must clear the failing state (see ``_record``).
        self._failed_here: set[str] = set()
        # The time the last claim that looked at controlled webhooks ran at.
        self._claimed_at = datetime.min.replace(tzinfo=UTC)
        self._releasing: set[asyncio.Task[None]] = set()
        self._backlog = False
        self.attempts_made = 0
        self._outcomes: asyncio.Queue[Outcome | None] = asyncio.Queue()
        self._window = FailureWindow(settings.breaker)
        # Loop time from which the claim looks at controlled webhooks again. Until then
        # none can have anything to claim, as far as this worker knows: its own records
        # reset it, and a change made elsewhere (a rate limit set through the API, a
        # pause another worker recorded) is seen within ``poll_interval``.
        self._look_at_controlled = 0.0
        # Counts those resets: a claim that was running while one happened must not put
        # the look off again (what it saw is older than the record that reset it).
        self._controlled_changes = 0

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Stop claiming; ``run`` then finishes in-flight sends and returns."""
        self._stopping.set()
        self.wakeup.notify()

    async def run(self) -> None:
        log.info("worker %s started", self.owner)
        recorder = asyncio.create_task(self._record_loop(), name="hookline-recorder")
        try:
            await self._claim_loop()
        finally:
            await self._drain()
            if self._releasing:
                await asyncio.wait(set(self._releasing), timeout=self.settings.shutdown_grace + 5)
            self._outcomes.put_nowait(None)  # the recorder stops after what came before
            try:
                await asyncio.wait_for(recorder, self.settings.shutdown_grace + 5)
            except TimeoutError:
                log.error(
                    "could not record every outcome before stopping; "
                    "those deliveries will be sent again after their lease"
                )
            log.info("worker %s stopped after %d attempts", self.owner, self.attempts_made)

    # -- claiming ----------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        s = self.settings
        reap_every = max(1.0, min(s.lease_seconds / 4, 30.0))
        loop = asyncio.get_running_loop()
        next_reap = loop.time()
        while not self._stopping.is_set():
            if loop.time() >= next_reap:
                next_reap = loop.time() + reap_every
                self._shares.prune(loop.time(), self._per_endpoint)
                await self._guard(self._reap())
            claimed_any = await self._guard(self._claim_once())
            if self._stopping.is_set():
                break
            if claimed_any and self._backlog and len(self._sending) < s.worker_concurrency:
                continue
            timeout = s.poll_interval
            if not claimed_any and not self._sending:
                timeout = await self._until_next_due(timeout)
            await self.wakeup.wait(timeout)

    async def _claim_once(self) -> bool:
        s = self.settings
        free = s.worker_concurrency - len(self._sending) - self._reserved
        if free <= 0:
            self._backlog = True
            return False
        shares = self._shares
        saturated = [e for e, n in self._per_endpoint.items() if n >= shares.limit(e)]
        limit = min(s.batch_size, free)
        now = self.clock()
        loop_now = asyncio.get_running_loop().time()
        look = loop_now >= self._look_at_controlled
        if look:
            self._claimed_at = now
        changes = self._controlled_changes
        claimed = await self.repo.claim_due(
            self.owner,
            now=now,
            lease_until=now + timedelta(seconds=s.lease_seconds),
            limit=limit,
            exclude_endpoints=saturated,
            controlled=look,
        )
        if look and changes == self._controlled_changes:
            ahead = s.poll_interval
            if claimed.next_look is not None:
                ahead = min(ahead, (claimed.next_look - now).total_seconds())
            self._look_at_controlled = loop_now + ahead
        self.metrics.claimed.inc(len(claimed))
        excess: list[str] = []
        for d in claimed:
            if self._per_endpoint[d.endpoint.id] >= shares.limit(d.endpoint.id):
                excess.append(d.delivery_id)
                continue
            self._start(d)
        if excess:
            await self.repo.release(self.owner, excess, self.clock())
        self._backlog = len(claimed) >= limit or bool(excess) or bool(saturated)
        return bool(claimed)

    async def _reap(self) -> bool:
        reaped = await self.repo.reap_expired(self.clock())
        if reaped:
            log.warning("%d deliveries had an expired lease and are due again", reaped)
        return bool(reaped)

    async def _until_next_due(self, default: float) -> float:
        try:
            plain, controlled = await self.repo.next_due_at()
        except HooklineError:
            return default
        now = self.clock()
        wait = default
        if plain is not None:
            wait = min(wait, max(0.0, (plain - now).total_seconds()) + 0.001)
        if controlled is not None and (controlled > now or controlled > self._claimed_at):
            # Due later, or due since the last claim looked (a retry coming due between
            # that claim and this read): claim again then. Due before that claim yet
            # not claimed means held back by a FIFO head or a probe in flight, whose
            # outcome wakes this worker (or the poll interval does).
            wait = min(wait, max(0.0, (controlled - now).total_seconds()) + 0.001)
            self._look_at_controlled = min(
                self._look_at_controlled, asyncio.get_running_loop().time() + wait
            )
        return wait

    async def _guard(self, op: Awaitable[bool]) -> bool:
        """Run a store operation; on failure, log, back off, and carry on."""
        try:
            return await op
        except HooklineError as exc:
            self.metrics.store_errors.inc()
            log.warning("worker store operation failed (%s); retrying", exc.message)
        except Exception:
            self.metrics.store_errors.inc()
            log.exception("worker store operation failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), STORE_RETRY_SECONDS)
        return False

    # -- deliveries handed over by publishes in this process (store.messages.Handoff) --

    def reserve(self, endpoint_id: str) -> datetime | None:
        """A send slot for a delivery being published now, within both concurrency
        bounds: the end of the lease to write it with, or None."""
        s = self.settings
        if (
            self._stopping.is_set()
            or len(self._sending) + self._reserved >= s.worker_concurrency
            or self._per_endpoint.get(endpoint_id, 0) >= self._shares.limit(endpoint_id)
        ):
            return None
        self._reserved += 1
        self._per_endpoint[endpoint_id] += 1
        return self.clock() + timedelta(seconds=s.lease_seconds)

    def unreserve(self, endpoint_ids: Sequence[str]) -> None:
        for endpoint_id in endpoint_ids:
            self._reserved -= 1
            self._free_endpoint_slot(endpoint_id)

    def hand(self, dispatches: Sequence[Dispatch]) -> None:
        """Send deliveries whose rows, leased to this worker, have just committed."""
        self.metrics.claimed.inc(len(dispatches))
        for d in dispatches:
            self._reserved -= 1
            if self._stopping.is_set():
                # Too late to send them here: give them back (or their lease expires).
                self._free_endpoint_slot(d.endpoint.id)
                task = asyncio.create_task(self._give_back(d.delivery_id), name="hookline-release")
                self._releasing.add(task)
                task.add_done_callback(self._releasing.discard)
                continue
            self._start(d, reserved=True)

    def controlled_due(self) -> None:
        """A publish here wrote deliveries due now to controlled webhooks: look at
        them in the next claim instead of after ``poll_interval``."""
        self._look_at_controlled = 0.0
        self._controlled_changes += 1

    async def _give_back(self, delivery_id: str) -> None:
        try:
            await self.repo.release(self.owner, [delivery_id], self.clock())
        except HooklineError as exc:
            log.warning("could not release a delivery (%s); its lease will expire", exc.message)

    def _free_endpoint_slot(self, endpoint_id: str) -> None:
        self._per_endpoint[endpoint_id] -= 1
        if self._per_endpoint[endpoint_id] <= 0:
            del self._per_endpoint[endpoint_id]

    # -- sending -----------------------------------------------------------------------

    def _start(self, d: Dispatch, *, reserved: bool = False) -> None:
        if not reserved:
            self._per_endpoint[d.endpoint.id] += 1
        task = asyncio.create_task(self._send(d))
        self._sending[d.delivery_id] = task
        self.metrics.in_flight.inc()

    async def _send(self, d: Dispatch) -> None:
        # This task's own context: its log lines name the delivery.
        logs.scope(
            account_id=d.endpoint.account_id,
            webhook_id=d.endpoint.id,
            event_id=d.message.id,
            delivery_id=d.delivery_id,
        )
        try:
            now = self.clock()
            if d.attempts == 0:
                self.metrics.publish_to_first_attempt.observe(
                    max(0.0, (now - d.message.due_at).total_seconds())
                )
            with tracing.attempt_span(
                d.message.trace_context,
                {
                    "hookline.event_id": d.message.id,
                    "hookline.event_type": d.message.event_type,
                    "hookline.delivery_id": d.delivery_id,
                    "hookline.webhook_id": d.endpoint.id,
                    "hookline.attempt": d.attempts + 1,
                },
            ) as span:
                traceparent = span.traceparent() if d.endpoint.send_traceparent else None
                result = await self.sender.send(
                    d, now, traceparent=traceparent, time_limit=d.endpoint.timeout
                )
                span.finish(
                    status_code=result.status_code,
                    error=result.error,
                    detail=result.error_detail,
                )
            self.attempts_made += 1
            made = d.attempts + 1
            if result.status_code is not None:
                self._shares.answered(d.endpoint.id, asyncio.get_running_loop().time())
            elif result.error in _UNANSWERED:
                self._shares.unanswered(d.endpoint.id, asyncio.get_running_loop().time())
            policy = (
                RetryPolicy.from_document(d.endpoint.retry_policy)
                if d.endpoint.retry_policy
                else self.default_policy
            )
            decision = decide(
                result=result,
                attempts_made=made,
                trigger=d.trigger,
                policy=policy,
                message_created_at=d.message.due_at,
                now=self.clock(),
                jitter=random.random(),
                retry_after_max=self.settings.retry_after_max,
            )
            if decision.status is DeliveryStatus.FAILED:
                log.info(
                    "delivery failed for good after %d attempts (%s)",
                    made,
                    result.error_detail or result.status_code,
                )
            elif log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "attempt %d: %s",
                    made,
                    "succeeded" if result.succeeded else result.error_detail or result.error,
                )
            self.metrics.attempts.labels(
                "success" if result.succeeded else "failure", result.error or ""
            ).inc()
            self.metrics.attempt_seconds.observe(result.duration_ms / 1000)
            if result.succeeded:
                self.metrics.publish_to_success.observe(
                    max(0.0, (self.clock() - d.message.due_at).total_seconds())
                )
            else:
                m = self.metrics
                m.webhook_failures.labels(m.webhook_label(d.endpoint.id)).inc()
            self._outcomes.put_nowait(
                Outcome(
                    delivery_id=d.delivery_id,
                    endpoint_id=d.endpoint.id,
                    message_id=d.message.id,
                    trigger=d.trigger,
                    attempt_id=self.ctx.new_id("atmpt"),
                    attempts_made=made,
                    result=result,
                    decision=decision,
                    account_id=d.message.account_id,
                    app_id=d.message.app_id,
                    event_type=d.message.event_type,
                    test=d.test,
                    probe=d.probe,
                    ordered=d.endpoint.ordering is Ordering.FIFO,
                    was_failing=d.endpoint.first_failure_at is not None,
                )
            )
        finally:
            self._sending.pop(d.delivery_id, None)
            self._free_endpoint_slot(d.endpoint.id)
            self.metrics.in_flight.dec()
            if self._backlog:
                self.wakeup.notify()

    async def _drain(self) -> None:
        """Let in-flight sends finish within the grace period; give the rest back."""
        if not self._sending:
            return
        tasks = dict(self._sending)
        _done, pending = await asyncio.wait(tasks.values(), timeout=self.settings.shutdown_grace)
        unfinished = [d for d, t in tasks.items() if t in pending]
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.wait(pending)
        if unfinished:
            try:
                released = await self.repo.release(self.owner, unfinished, self.clock())
                log.info("released %d unfinished deliveries", released)
            except HooklineError as exc:
                log.warning(
                    "could not release %d deliveries (%s); their lease will expire",
                    len(unfinished),
                    exc.message,
                )

    # -- recording ---------------------------------------------------------------------

    async def _record_loop(self) -> None:
        """Record outcomes in batches: whatever queued up while the last write ran."""
        done = False
        while not done:
            first = await self._outcomes.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.settings.batch_size and not self._outcomes.empty():
                item = self._outcomes.get_nowait()
                if item is None:
                    done = True
                    break
                batch.append(item)
            control = self._control(batch, self.clock())
            while not await self._record(batch, control):  # noqa: ASYNC110 - backing off a failing store
                await asyncio.sleep(STORE_RETRY_SECONDS)
            # Not kept while waiting for the next outcome: each holds the body it sent.
            del first, batch, control

    def _control(self, batch: list[Outcome], now: datetime) -> Control:
        """What these outcomes change in delivery control: receivers asking to slow
        down, probes settled, circuits to open (counted once, before any retry)."""
        c = Control(cooldown=self.settings.circuit_cooldown)
        at = time.monotonic()
        for o in batch:
            r = o.result
            pause = slow_down(r.status_code, r.retry_after, most=self.settings.retry_after_max)
            if pause is not None:
                c.pauses[o.endpoint_id] = now + timedelta(seconds=pause)
            if o.probe:
                c.probes[o.endpoint_id] = r.succeeded
                self._window.forget(o.endpoint_id)
            elif self._window.add(o.endpoint_id, at, failed=not r.succeeded):
                c.trips.add(o.endpoint_id)
                self._window.forget(o.endpoint_id)
        return c

    async def _record(self, batch: list[Outcome], control: Control) -> bool:
        now = self.clock()
        after = self.settings.disable_after
        try:
            announced = await self.repo.record(
                batch,
                owner=self.owner,
                now=now,
                disable_failing_since=now - timedelta(seconds=after) if after > 0 else None,
                failing_after=self.settings.failing_after,
                new_id=self.ctx.new_id,
                control=control,
                # A success clears the failing state only of webhooks that may have one:
                # failing when read, or failed since through this worker. (A failure
                # another worker records after the read is cleared by a later success.)
                maybe_failing={o.endpoint_id for o in batch if o.was_failing} | self._failed_here,
            )
        except HooklineError as exc:
            self.metrics.store_errors.inc()
            log.warning("could not record %d outcomes (%s); retrying", len(batch), exc.message)
            return False
        failed = {o.endpoint_id for o in batch if not o.result.succeeded}
        self._failed_here -= {o.endpoint_id for o in batch if o.result.succeeded} - failed
        self._failed_here |= failed
        if control or any(o.ordered for o in batch):
            # A circuit changed, a webhook paused, or a FIFO line moved on: what may be
            # claimed changed.
            self._look_at_controlled = 0.0
            self._controlled_changes += 1
            self.wakeup.notify()
        if announced or any(o.decision.status is DeliveryStatus.PENDING for o in batch):
            # A retry is now scheduled: let the claim loop shorten its sleep to it.
            self.wakeup.notify()
        return True
