"""The background purge: every ``purge_interval``, the delivery worker's process removes
what is past retention, a small batch per transaction (``services/retention.py``).

Several worker processes may run it; on PostgreSQL one of them purges at a time and the
others find the advisory lock taken and wait for their next turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hookline.errors import HooklineError
from hookline.runtime.metrics import Metrics
from hookline.services.retention import PurgeRunning, RetentionService

log = logging.getLogger("hookline.retention")


class PurgeRunner:
    def __init__(self, service: RetentionService, interval: float, metrics: Metrics) -> None:
        self.service = service
        self.interval = interval
        self.metrics = metrics
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            await self.purge_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    async def purge_once(self) -> None:
        try:
            report = await self.service.purge(
                should_stop=self._stopping.is_set, on_batch=self.metrics.count_purged
            )
        except PurgeRunning:
            log.debug("another process is purging")
        except HooklineError as exc:
            self.metrics.store_errors.inc()
            log.warning("purge failed (%s); trying again in %g s", exc.message, self.interval)
        except Exception:
            self.metrics.store_errors.inc()
            log.exception("purge failed; trying again in %g s", self.interval)
        else:
            if report.counts.total:
                log.info(
                    "purged rows older than %s: %s",
                    report.cutoff.isoformat(),
                    ", ".join(f"{k} {v}" for k, v in report.counts.as_dict().items() if v),
                )
