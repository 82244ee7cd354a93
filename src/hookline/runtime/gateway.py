"""The gateway runner: start queued calls under a lease, forward them to upstreams,
and record how they end.

One runs per process next to the delivery worker. ``hold`` calls keep their upstream
request open until the answer or the call's deadline; a heartbeat renews their leases
(calls may run for minutes) and aborts requests of calls that were cancelled or taken
over elsewhere. ``callback`` calls give up their lease once the upstream has taken them;
the callback route or the deadline ends them. Calls of a runner that died are found by
their expired lease and handled by the reaper (see ``CallRepository.reap``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import secrets
from collections.abc import Awaitable
from datetime import timedelta

from hookline import logs
from hookline.config import Settings
from hookline.domain import calls as rules
from hookline.domain.gateway import CallStatus, Completion, Dispatched, Outcome, UpstreamAttempt
from hookline.domain.keys import hash_api_key
from hookline.errors import HooklineError
from hookline.runtime.metrics import Metrics
from hookline.runtime.upstream import Upstream
from hookline.runtime.wakeup import CallWatch, LocalWakeup
from hookline.runtime.worker import STORE_RETRY_SECONDS, worker_name
from hookline.services.common import Clock, Notifier, utc_now
from hookline.store.call_runs import RunRepository

log = logging.getLogger("hookline.gateway")

REQUEST_ID_HEADER = "Hookline-Request-Id"
API_ID_HEADER = "Hookline-Api-Id"
CALLBACK_HEADER = "Hookline-Callback-Url"


class GatewayRunner:
    def __init__(
        self,
        repo: RunRepository,
        upstream: Upstream,
        settings: Settings,
        deliveries: Notifier,
        metrics: Metrics,
        clock: Clock = utc_now,
        *,
        watch: CallWatch | None = None,
    ) -> None:
        self.repo = repo
        self.upstream = upstream
        self.settings = settings
        self.deliveries = deliveries
        self.metrics = metrics
        self.clock = clock
        self.watch = watch or CallWatch()
        self.owner = "gw:" + worker_name()
        self.wakeup = LocalWakeup()
        self._stopping = asyncio.Event()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._aborted: set[str] = set()

    # -- signals from services in this process (CallSignals) -------------------------

    def queued(self) -> None:
        self.wakeup.notify()

    def ended(self, call_id: str) -> None:
        """The call ended elsewhere (cancelled): stop its upstream request now."""
        task = self._running.get(call_id)
        if task is not None:
            self._aborted.add(call_id)
            task.cancel()

    # -- lifecycle ---------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()
        self.wakeup.notify()

    async def run(self) -> None:
        log.info("gateway runner %s started", self.owner)
        try:
            await self._loop()
        finally:
            await self._drain()
            log.info("gateway runner %s stopped", self.owner)

    async def _loop(self) -> None:
        s = self.settings
        loop = asyncio.get_running_loop()
        # Claims follow wake-ups (and poll_interval, for calls accepted by other
        # processes); lease renewal and reaping need only run a few times per lease.
        housekeeping_every = max(s.poll_interval, min(s.call_lease_seconds / 3, 1.0))
        next_housekeeping = loop.time()
        while not self._stopping.is_set():
            if loop.time() >= next_housekeeping:
                next_housekeeping = loop.time() + housekeeping_every
                await self._guard(self._heartbeat())
                await self._guard(self._reap())
                await self._guard(self._expire_deadlines())
                await self._guard(self._expunge_results())
            claimed = await self._guard(self._claim())
            if self._stopping.is_set():
                break
            if claimed and len(self._running) < s.call_concurrency:
                continue
            await self.wakeup.wait(max(0.0, min(s.poll_interval, next_housekeeping - loop.time())))

    async def _claim(self) -> bool:
        room = self.settings.call_concurrency - len(self._running)
        if room <= 0:
            return False
        now = self.clock()
        claimed = await self.repo.claim(
            self.owner,
            now=now,
            lease_until=now + timedelta(seconds=self.settings.call_lease_seconds),
            limit=min(room, self.settings.batch_size),
        )
        for d in claimed:
            self._running[d.call.id] = asyncio.create_task(self._run_call(d), name=d.call.id)
            self.watch.changed(d.call.id)
        if any("start" in d.call.webhook_events and d.call.endpoint_id for d in claimed):
            self.deliveries.notify()
        return bool(claimed)

    async def _heartbeat(self) -> bool:
        lease_until = self.clock() + timedelta(seconds=self.settings.call_lease_seconds)
        lost = await self.repo.heartbeat(self.owner, list(self._running), lease_until)
        for call_id in lost:
            self.ended(call_id)
        return bool(lost)

    async def _reap(self) -> bool:
        ended = await self.repo.reap(self.clock())
        for call in ended:
            self.watch.changed(call.id)
            self.metrics.calls_finished.labels(call.status.value).inc()
            if call.error == "interrupted":
                log.warning("call %s was interrupted by a restart: failed", call.id)
        if any(c.endpoint_id is not None for c in ended):
            self.deliveries.notify()
        return bool(ended)

    async def _expire_deadlines(self) -> bool:
        """Calls whose ``cancel_after`` passed: end them, and stop their upstream
        requests if this runner holds them (other runners notice at their heartbeat)."""
        ended = await self.repo.expire_deadlines(self.clock())
        for call in ended:
            self.ended(call.id)
            self.watch.changed(call.id)
            self.metrics.calls_finished.labels(call.status.value).inc()
        if any(c.endpoint_id is not None for c in ended):
            self.deliveries.notify()
        return bool(ended)

    async def _expunge_results(self) -> bool:
        """Result retention, a small batch per housekeeping round."""
        keep = self.settings.call_result_retention
        if keep <= 0:
            return False
        now = self.clock()
        return bool(await self.repo.expunge_results(now - timedelta(seconds=keep), now))

    async def _guard(self, op: Awaitable[bool]) -> bool:
        try:
            return await op
        except HooklineError as exc:
            self.metrics.store_errors.inc()
            log.warning("gateway store operation failed (%s); retrying", exc.message)
        except Exception:
            self.metrics.store_errors.inc()
            log.exception("gateway store operation failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), STORE_RETRY_SECONDS)
        return False

    async def _drain(self) -> None:
        """Give running calls the grace period, then abort them. Their leases are
        left to run out, so the reaper decides (by the API's idempotency) what happens,
        exactly as after a crash."""
        if not self._running:
            return
        tasks = list(self._running.values())
        _done, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace)
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.wait(pending)

    # -- one call ----------------------------------------------------------------------

    async def _run_call(self, d: Dispatched) -> None:
        call = d.call
        logs.scope(account_id=call.consumer_id, call_id=call.id)
        attempts: list[UpstreamAttempt] = []
        try:
            assert call.deadline is not None
            remaining = (call.deadline - self.clock()).total_seconds()
            try:
                async with asyncio.timeout(max(0.0, remaining)):
                    outcome = await self._forward(d, attempts)
            except TimeoutError:
                outcome = Outcome(
                    CallStatus.TIMED_OUT,
                    error="timeout",
                    error_detail=f"no result within {call.timeout:g} s",
                    attempts=tuple(attempts),
                )
            if outcome is not None:
                await self._finish(call.id, outcome)
        except asyncio.CancelledError:
            # Aborted (cancelled, or lease lost) or shutting down: nothing to record here.
            if call.id not in self._aborted and not self._stopping.is_set():
                raise
        except Exception:
            log.exception("call %s: unexpected error; its lease will run out", call.id)
        finally:
            self._running.pop(call.id, None)
            self._aborted.discard(call.id)
            if not self._stopping.is_set():
                self.wakeup.notify()  # a slot (and maybe an API's concurrency) is free

    async def _forward(self, d: Dispatched, attempts: list[UpstreamAttempt]) -> Outcome | None:
        """Request the upstream, retrying transient failures (the API's ``retry_on``, or
        the default rule); each request is added to ``attempts``. None means the upstream
        took a ``callback`` call and will report later."""
        call, api = d.call, d.api
        headers = {REQUEST_ID_HEADER: call.id, API_ID_HEADER: api.id}
        if api.completion is Completion.CALLBACK:
            token = secrets.token_urlsafe(32)
            if not await self.repo.set_callback_token(call.id, self.owner, hash_api_key(token)):
                return None  # cancelled meanwhile: no longer ours to forward
            base = self.settings.public_url.rstrip("/") or (call.callback_base or "")
            headers[CALLBACK_HEADER] = f"{base}/v1/callbacks/{call.id}/{token}"
        url = api.upstream_url.rstrip("/") + call.path if call.path else api.upstream_url
        made = 0
        loop = asyncio.get_running_loop()
        while True:
            started, at = loop.time(), self.clock()
            answer = await self.upstream.request(
                call.method, url, params=call.params, body=call.body, headers=headers
            )
            self.metrics.upstream_seconds.observe(loop.time() - started)
            made += 1
            attempts.append(
                UpstreamAttempt(
                    answer.status_code,
                    answer.error,
                    round((loop.time() - started) * 1000),
                    at,
                )
            )
            tried = tuple(attempts)
            self.metrics.upstream_requests.labels(
                str(answer.status_code) if answer.status_code else (answer.error or "")
            ).inc()
            if answer.final_failure:
                return Outcome(
                    CallStatus.FAILED,
                    answer.status_code,
                    None,
                    answer.error,
                    answer.error_detail,
                    tried,
                )
            if rules.is_transient(answer.status_code, api.retry_on):
                assert call.deadline is not None
                delay = rules.upstream_backoff(
                    made,
                    base=api.retry_on.backoff
                    if api.retry_on
                    else self.settings.upstream_retry_base,
                    retry_after=answer.retry_after,
                    jitter=random.random(),
                )
                remaining = (call.deadline - self.clock()).total_seconds()
                if rules.should_retry_upstream(made, delay, remaining, api.retry_on):
                    await asyncio.sleep(delay)
                    continue
                return Outcome(
                    CallStatus.FAILED,
                    answer.status_code,
                    answer.body,
                    "upstream_unavailable",
                    answer.error_detail or f"upstream answered {answer.status_code} {made} times",
                    tried,
                )
            assert answer.status_code is not None
            if api.completion is Completion.CALLBACK and 200 <= answer.status_code < 300:
                await self.repo.await_callback(call.id, self.owner, self.clock(), tried)
                return None
            return dataclasses.replace(
                rules.outcome_of_response(answer.status_code, answer.body), attempts=tried
            )

    async def _finish(self, call_id: str, outcome: Outcome) -> None:
        while True:
            try:
                done = await self.repo.finish(call_id, outcome, self.clock(), owner=self.owner)
                break
            except HooklineError as exc:
                if self._stopping.is_set():
                    return  # the lease will run out and the reaper decides
                log.warning("could not record call %s (%s); retrying", call_id, exc.message)
                await asyncio.sleep(STORE_RETRY_SECONDS)
        if done is not None:
            self.watch.changed(call_id)
            self.metrics.calls_finished.labels(done.status.value).inc()
            if done.completed_at is not None:
                self.metrics.call_seconds.labels(done.status.value).observe(
                    max(0.0, (done.completed_at - done.created_at).total_seconds())
                )
            if done.endpoint_id is not None:
                self.deliveries.notify()
