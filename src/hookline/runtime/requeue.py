"""Runs bulk re-queues (recover, bulk retry) in the background, a chunk per transaction.

It runs wherever the delivery worker runs. An API in the same process wakes it at
once; work accepted by another process is found by polling, every ``poll_interval``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from hookline.config import Settings
from hookline.errors import HooklineError
from hookline.runtime.wakeup import LocalWakeup
from hookline.runtime.worker import worker_name
from hookline.services.common import Clock, Notifier, utc_now
from hookline.store.requeue import DONE, RequeueRepository

log = logging.getLogger("hookline.requeue")

LEASE_SECONDS = 60.0
RETRY_SECONDS = 1.0


class RequeueRunner:
    def __init__(
        self,
        repo: RequeueRepository,
        settings: Settings,
        wakeup: LocalWakeup,
        deliveries: Notifier,
        clock: Clock = utc_now,
    ) -> None:
        self.repo = repo
        self.settings = settings
        self.wakeup = wakeup
        self.deliveries = deliveries
        self.clock = clock
        self.chunk = settings.requeue_chunk
        self.owner = worker_name()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.wakeup.notify()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = await self._run_one()
            except HooklineError as exc:
                log.warning("bulk re-queue failed (%s); retrying", exc.message)
                worked = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), RETRY_SECONDS)
            if not worked and not self._stopping.is_set():
                await self.wakeup.wait(self.settings.poll_interval)

    async def _run_one(self) -> bool:
        """Finish one job (a chunk per transaction); False when there was none."""
        now = self.clock()
        job = await self.repo.claim(self.owner, now, now + timedelta(seconds=LEASE_SECONDS))
        if job is None:
            return False
        while not self._stopping.is_set():
            now = self.clock()
            step = await self.repo.run_chunk(
                job,
                self.owner,
                now=now,
                lease_until=now + timedelta(seconds=LEASE_SECONDS),
                size=self.chunk,
            )
            if step is None:  # another runner took it over
                return True
            job, queued = step
            if queued:
                self.deliveries.notify()
            if job.status == DONE:
                log.info("re-queue %s done: %d of %d queued", job.id, job.queued, job.expected)
                return True
        return True
