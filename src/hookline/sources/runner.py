"""The source runner: lease sources, follow each one step by step, commit each step.

It runs wherever the delivery worker runs. A source is followed by one process at a
time: the lease on its row is renewed at every step and checked by every commit, so a
worker that stalls past its lease and then wakes up commits nothing (another has taken
over). A step that fails (an RPC error or timeout, or the database) is retried after a
backoff from the same committed cursor: an outage leaves a gap in time, never in blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hookline.config import Settings
from hookline.domain.sources import Cursor
from hookline.errors import HooklineError, StoreUnavailable
from hookline.runtime.metrics import Metrics
from hookline.runtime.worker import worker_name
from hookline.services.sources import MAX_STEP_EVENTS, SourceService
from hookline.sources.base import Follower, FollowError, FollowLimits
from hookline.sources.families import FAMILIES
from hookline.store.sources import LeaseLost

log = logging.getLogger("hookline.sources")


class SourceRunner:
    def __init__(self, service: SourceService, settings: Settings, metrics: Metrics) -> None:
        self.service = service
        self.settings = settings
        self.metrics = metrics
        self.owner = worker_name()
        self.limits = FollowLimits(
            block_range=settings.source_block_range,
            reorg_window=settings.source_reorg_window,
            rpc_timeout=settings.source_rpc_timeout,
            max_events=MAX_STEP_EVENTS,
        )
        self._stopping = asyncio.Event()
        self._following: dict[str, asyncio.Task[None]] = {}

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        s = self.settings
        every = max(0.05, min(s.poll_interval, s.source_lease_seconds / 4))
        try:
            while not self._stopping.is_set():
                free = s.source_concurrency - len(self._following)
                if free > 0:
                    try:
                        claimed = await self.service.claim(
                            self.owner, lease_seconds=s.source_lease_seconds, limit=free
                        )
                    except HooklineError as exc:
                        log.warning("could not claim sources (%s)", exc.message)
                        claimed = []
                    for source_id in claimed:
                        self._following[source_id] = asyncio.create_task(
                            self._follow(source_id), name=f"hookline-source-{source_id}"
                        )
                await self._pause(every)
        finally:
            tasks = list(self._following.values())
            if tasks:
                _done, late = await asyncio.wait(
                    tasks, timeout=s.shutdown_grace + s.source_rpc_timeout
                )
                if late:
                    log.warning("%d sources did not finish their step in time", len(late))
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _follow(self, source_id: str) -> None:
        s = self.settings
        follower: Follower | None = None
        made_for: tuple[str, int | None] | None = None
        failures = 0
        try:
            while not self._stopping.is_set():
                try:
                    state = await self.service.follow_state(
                        source_id, self.owner, s.source_lease_seconds
                    )
                except StoreUnavailable:
                    await self._pause(s.poll_interval * 4)
                    continue
                if state is None:
                    return  # paused, deleted, or taken over
                source = state.source
                if follower is None or made_for != (source.rpc_url, source.chain_id):
                    if follower is not None:
                        await follower.close()
                    follower = FAMILIES[source.kind].follower(source, self.limits, s.allow_networks)
                    made_for = (source.rpc_url, source.chain_id)
                try:
                    step = await follower.step(state)
                    if (
                        step.changes_anything
                        or step.head != source.head_block
                        or (source.last_error is not None)
                    ):
                        await self.service.commit_step(source, self.owner, step)
                    follower.committed()
                except LeaseLost:
                    return
                except Exception as exc:
                    failures += 1
                    await self._failed(source_id, exc, failures)
                    continue
                failures = 0
                self._observe(source_id, step.head, step.cursor or source.cursor)
                if not step.more:
                    await self._pause(min(source.poll_interval, s.source_lease_seconds / 3))
        finally:
            self._following.pop(source_id, None)
            if follower is not None:
                await follower.close()
            with contextlib.suppress(HooklineError):
                await self.service.release(source_id, self.owner)

    async def _failed(self, source_id: str, exc: Exception, failures: int) -> None:
        """Record the error on the source, then back off exponentially (capped)."""
        message = exc.message if isinstance(exc, HooklineError) else str(exc) or type(exc).__name__
        self.metrics.source_errors.labels(source_id).inc()
        if isinstance(exc, HooklineError | FollowError):
            log.warning("source %s: %s (attempt %d)", source_id, message, failures)
        else:
            log.error("source %s: unexpected error", source_id, exc_info=exc)
        with contextlib.suppress(HooklineError):
            await self.service.record_error(source_id, self.owner, message, None)
        # The exponent is capped so a days-long outage cannot overflow the float.
        delay = min(
            self.settings.source_retry_max, self.settings.poll_interval * 2 ** min(failures, 30)
        )
        await self._pause(delay)

    def _observe(self, source_id: str, head: int | None, cursor: Cursor | None) -> None:
        m = self.metrics
        if head is not None:
            m.source_head.labels(source_id).set(head)
        if cursor is not None:
            m.source_processed.labels(source_id).set(cursor.block)
            if head is not None:
                m.source_lag.labels(source_id).set(max(0, head - cursor.block))
