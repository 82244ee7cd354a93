"""Samples the delivery backlog into the metrics every ``backlog_interval`` seconds.

One query per interval per process, whatever the scrape rate: scrapes read the gauges.
The backlog is the whole database's, so every worker reports the same figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from hookline.domain.models import Circuit
from hookline.errors import HooklineError
from hookline.runtime.metrics import Metrics
from hookline.services.common import Clock, utc_now
from hookline.store.backlog import BacklogRepository

log = logging.getLogger("hookline.backlog")


class BacklogSampler:
    def __init__(
        self, repo: BacklogRepository, metrics: Metrics, interval: float, clock: Clock = utc_now
    ) -> None:
        self.repo = repo
        self.metrics = metrics
        self.interval = interval
        self.clock = clock
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            await self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    async def sample(self) -> None:
        now = self.clock()
        try:
            backlog = await self.repo.sample(now)
        except HooklineError as exc:
            log.warning("could not sample the backlog (%s)", exc.message)
            return
        m = self.metrics
        m.backlog_pending.set(backlog.pending)
        m.backlog_held.set(backlog.held)
        overdue = (now - backlog.oldest_due_at).total_seconds() if backlog.oldest_due_at else 0.0
        m.backlog_oldest_due.set(max(0.0, overdue))
        for state in (Circuit.OPEN, Circuit.HALF_OPEN):
            m.webhook_circuits.labels(state.value).set(backlog.circuits.get(state.value, 0))
        m.backlog_sampled_at.set(time.time())
