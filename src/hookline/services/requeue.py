"""Recover and bulk retry: accept a filter, count what it matches, and leave the
re-queueing to background work (:mod:`hookline.runtime.requeue`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from hookline.domain.models import DeliveryStatus, EndpointStatus
from hookline.domain.search import RECOVERABLE, RETRYABLE, DeliveryFilter, RequeueJob
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.services.common import Context, Notifier
from hookline.store.endpoints import EndpointRepository
from hookline.store.requeue import RequeueRepository


class RequeueService:
    def __init__(
        self,
        repo: RequeueRepository,
        endpoints: EndpointRepository,
        ctx: Context,
        runner: Notifier,
    ) -> None:
        self.repo = repo
        self.endpoints = endpoints
        self.ctx = ctx
        self.runner = runner

    async def recover(
        self,
        account_id: str,
        webhook_id: str,
        *,
        since: datetime,
        until: datetime | None,
        statuses: Sequence[DeliveryStatus] | None,
    ) -> RequeueJob:
        """Queue again a webhook's failed and held deliveries made in the window."""
        endpoint = await self.endpoints.get(account_id, webhook_id)
        if endpoint is None or endpoint.status is EndpointStatus.DELETED:
            raise NotFound("webhook")
        if endpoint.status is not EndpointStatus.ACTIVE:
            raise Conflict(
                "the webhook is not active; re-enable it first", code="webhook_not_active"
            )
        chosen = _statuses(statuses, RECOVERABLE, RECOVERABLE)
        f = DeliveryFilter(statuses=chosen, webhook_id=webhook_id, since=since, until=until)
        return await self._start(account_id, f)

    async def retry(self, account_id: str, f: DeliveryFilter) -> RequeueJob:
        """Queue again every finished delivery of active webhooks that ``f`` matches
        (failed ones when no status is given)."""
        f = dataclasses.replace(
            f, statuses=_statuses(f.statuses, RETRYABLE, (DeliveryStatus.FAILED,))
        )
        return await self._start(account_id, f)

    async def get(self, account_id: str, job_id: str) -> RequeueJob:
        job = await self.repo.get(account_id, job_id)
        if job is None:
            raise NotFound("requeue")
        return job

    async def _start(self, account_id: str, f: DeliveryFilter) -> RequeueJob:
        if f.since is not None and f.until is not None and f.until <= f.since:
            raise InvalidInput("until must be later than since", code="invalid_window")
        job = await self.repo.create(self.ctx.new_id("job"), account_id, f, self.ctx.now())
        if job.expected:
            self.runner.notify()
        return job


def _statuses(
    given: Sequence[DeliveryStatus] | None,
    allowed: tuple[DeliveryStatus, ...],
    default: tuple[DeliveryStatus, ...],
) -> tuple[DeliveryStatus, ...]:
    if not given:
        return default
    bad = [s.value for s in given if s not in allowed]
    if bad:
        raise InvalidInput(
            f"statuses {bad} cannot be queued again; use {[s.value for s in allowed]}",
            code="invalid_statuses",
        )
    return tuple(dict.fromkeys(given))
