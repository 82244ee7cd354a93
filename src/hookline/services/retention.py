"""Retention: the purge of finished work older than ``HOOKLINE_RETENTION``.

The delivery worker runs it every ``purge_interval``; ``POST /v1/admin/purge`` (and
``hookline purge``) runs it by hand. One purge runs at a time (on PostgreSQL, across
processes); a second is refused with ``409 purge_running``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hookline.domain.retention import PurgeCounts, cutoff
from hookline.errors import Conflict
from hookline.services.common import Context
from hookline.store.retention import RetentionRepository


@dataclass(frozen=True, slots=True)
class PurgeReport:
    cutoff: datetime
    counts: PurgeCounts
    # False when the purge stopped early (its time budget ran out, or it was asked to
    # stop): old rows may remain, and another purge continues where this one stopped.
    complete: bool


class PurgeRunning(Conflict):
    """A purge is already running (here or in another process); try again later."""

    code = "purge_running"


class RetentionService:
    def __init__(
        self, repo: RetentionRepository, ctx: Context, retention: float, batch_size: int
    ) -> None:
        self.repo = repo
        self.ctx = ctx
        self.retention = retention
        self.batch_size = batch_size

    async def purge(
        self,
        *,
        dry_run: bool = False,
        budget: float | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        on_batch: Callable[[PurgeCounts], None] = lambda _c: None,
    ) -> PurgeReport:
        """Remove what is past retention, a batch per transaction, until nothing is
        left, ``budget`` seconds have passed, or ``should_stop()``; ``on_batch`` hears
        each batch's counts as it commits. A dry run counts and removes nothing."""
        edge = cutoff(self.ctx.now(), self.retention)
        if dry_run:
            return PurgeReport(edge, await self.repo.count(edge), complete=True)
        loop = asyncio.get_running_loop()
        deadline = None if budget is None else loop.time() + budget

        def out_of_time() -> bool:
            return should_stop() or (deadline is not None and loop.time() >= deadline)

        total = PurgeCounts()
        async with self.repo.exclusive() as mine:
            if not mine:
                raise PurgeRunning()
            # Deliveries first: an event goes only once none of its deliveries is left.
            while True:
                if out_of_time():
                    return PurgeReport(edge, total, complete=False)
                step = await self.repo.purge_deliveries(edge, self.batch_size)
                total.add(step)
                on_batch(step)
                if step.deliveries < self.batch_size:
                    break
                await asyncio.sleep(0)  # let waiting writers in between batches
            after: str | None = None
            while True:
                if out_of_time():
                    return PurgeReport(edge, total, complete=False)
                found, after = await self.repo.purge_messages(edge, after, self.batch_size)
                total.add(found)
                on_batch(found)
                if after is None:
                    break
                await asyncio.sleep(0)
        return PurgeReport(edge, total, complete=True)
