"""Listen sessions: ``hookline listen`` pulls a listen webhook's deliveries over a stream
and reports each local outcome back.

The stream claims due deliveries with the worker's lease (the owner is the session), so
a delivery is with one session at a time; a report is recorded exactly as the worker
records a send (an attempt, then success or a retry per the webhook's policy); a session
that goes away releases what it holds, and a lease nobody reports on expires and the
worker's reaper makes the delivery due again.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hookline.config import Settings
from hookline.domain.dispatch import RESPONSE_BODY_LIMIT, Outcome, SendResult, decide
from hookline.domain.models import DeliveryMode, DeliveryStatus, Endpoint, EndpointStatus
from hookline.domain.request import signed_request
from hookline.domain.retry import RetryPolicy
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.services.common import Context
from hookline.store.deliveries import DeliveryRepository
from hookline.store.endpoints import EndpointRepository

# Deliveries one session holds at most before it has reported on them: bounds what a
# slow local app can hold up, and what a vanished session leaves to its leases.
WINDOW = 10


@dataclass(frozen=True, slots=True)
class Report:
    """What the local app did with one forwarded delivery."""

    status_code: int | None
    response_body: str | None
    duration_ms: int
    error: str | None = None
    error_detail: str | None = None


class ListenService:
    def __init__(
        self,
        deliveries: DeliveryRepository,
        endpoints: EndpointRepository,
        ctx: Context,
        settings: Settings,
    ) -> None:
        self.deliveries = deliveries
        self.endpoints = endpoints
        self.ctx = ctx
        self.settings = settings

    @staticmethod
    def new_session() -> str:
        return f"listen:{secrets.token_hex(12)}"

    async def listen_endpoint(self, account_id: str, webhook_id: str) -> Endpoint:
        endpoint = await self.endpoints.get(account_id, webhook_id)
        if endpoint is None:
            raise NotFound("webhook")
        if endpoint.mode is not DeliveryMode.LISTEN:
            raise Conflict(
                "only a webhook created with mode 'listen' can be streamed",
                code="webhook_not_listen",
            )
        if endpoint.status is not EndpointStatus.ACTIVE:
            raise Conflict(f"the webhook is {endpoint.status.value}", code="webhook_not_active")
        return endpoint

    async def claim(self, session: str, webhook_id: str) -> list[dict[str, Any]]:
        """Lease the webhook's due deliveries (up to the session's window) and render
        each as the signed request it is."""
        free = WINDOW - await self.deliveries.held_by(session)
        if free <= 0:
            return []
        now = self.ctx.now()
        claimed = await self.deliveries.claim_due(
            session,
            now=now,
            lease_until=now + timedelta(seconds=self.settings.lease_seconds),
            limit=free,
            endpoint_id=webhook_id,
        )
        out = []
        for d in claimed:
            body, headers = signed_request(d, now)
            out.append(
                {
                    "delivery_id": d.delivery_id,
                    "event_id": d.message.id,
                    "event_type": d.message.event_type,
                    "attempt": d.attempts + 1,
                    "headers": headers,
                    "body": body.decode(),
                }
            )
        return out

    async def report(
        self, account_id: str, session: str, delivery_id: str, report: Report
    ) -> DeliveryStatus:
        """Record the local outcome of a delivery this session holds."""
        delivery = await self.deliveries.get(account_id, delivery_id)
        if delivery is None:
            raise NotFound("delivery")
        endpoint = await self.listen_endpoint(account_id, delivery.endpoint_id)
        if await self.deliveries.holder(delivery_id) != session:
            raise Conflict(
                "this session no longer holds the delivery (its lease ended)", code="lease_lost"
            )
        if report.status_code is not None and not 100 <= report.status_code <= 599:
            raise InvalidInput("status_code must be an HTTP status", code="invalid_status_code")
        now = self.ctx.now()
        result = SendResult(
            started_at=now - timedelta(milliseconds=report.duration_ms),
            duration_ms=report.duration_ms,
            status_code=report.status_code,
            response_body=(report.response_body or "")[:RESPONSE_BODY_LIMIT],
            error=report.error,
            error_detail=report.error_detail,
        )
        policy = (
            RetryPolicy.from_document(endpoint.retry_policy)
            if endpoint.retry_policy
            else self.settings.default_retry_policy
        )
        decision = decide(
            result=result,
            attempts_made=delivery.attempts + 1,
            trigger=delivery.trigger,
            policy=policy,
            message_created_at=delivery.created_at,
            now=now,
            jitter=random.random(),
            retry_after_max=self.settings.retry_after_max,
        )
        after = self.settings.disable_after
        await self.deliveries.record(
            [
                Outcome(
                    delivery_id=delivery.id,
                    endpoint_id=endpoint.id,
                    message_id=delivery.message_id,
                    trigger=delivery.trigger,
                    attempt_id=self.ctx.new_id("atmpt"),
                    attempts_made=delivery.attempts + 1,
                    result=result,
                    decision=decision,
                )
            ],
            owner=session,
            now=now,
            disable_failing_since=now - timedelta(seconds=after) if after > 0 else None,
        )
        return decision.status

    async def release(self, session: str, delivery_ids: list[str]) -> int:
        """Give back what a closed session still holds: due now, for the next session."""
        return await self.deliveries.release(session, delivery_ids, self.ctx.now())
