"""Reading delivery logs, searching them, and sending deliveries again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hookline.domain.matching import is_valid_event_type
from hookline.domain.models import (
    Attempt,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointStatus,
    Message,
    Ordering,
    Page,
)
from hookline.domain.operational import TEST, ping
from hookline.domain.search import DeliveryFilter, WebhookStats
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.services.common import Context
from hookline.store.accounts import AccountRepository
from hookline.store.deliveries import DeliveryRepository
from hookline.store.delivery_queries import DeliveryQueries
from hookline.store.endpoints import EndpointRepository
from hookline.store.messages import MessageRepository


@dataclass(frozen=True, slots=True)
class Sent:
    """A delivery created on request (a test event or a resend)."""

    event_id: str
    delivery_id: str
    webhook_id: str
    event_type: str


# The registered example of an event type (account, type) for a test event sent without
# data; None when the type has none (a ping is sent instead). The event-type catalog.
Examples = Callable[[str, str], Awaitable[bytes | None]]


class DeliveryService:
    def __init__(
        self,
        deliveries: DeliveryRepository,
        endpoints: EndpointRepository,
        ctx: Context,
        queries: DeliveryQueries | None = None,
        messages: MessageRepository | None = None,
        accounts: AccountRepository | None = None,
        examples: Examples | None = None,
    ) -> None:
        self.deliveries = deliveries
        self.endpoints = endpoints
        self.ctx = ctx
        self.queries = queries or DeliveryQueries(deliveries.db)
        self.messages = messages or MessageRepository(deliveries.db)
        self.accounts = accounts or AccountRepository(deliveries.db)
        self.examples = examples

    async def get(self, account_id: str, delivery_id: str) -> tuple[Delivery, list[Attempt]]:
        delivery = await self.deliveries.get(account_id, delivery_id)
        if delivery is None:
            raise NotFound("delivery")
        attempts = await self.deliveries.attempts_for([delivery_id])
        return delivery, attempts[delivery_id]

    async def list_for_webhook(
        self,
        account_id: str,
        webhook_id: str,
        *,
        status: DeliveryStatus | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[Page[Delivery], dict[str, list[Attempt]]]:
        if await self.endpoints.get(account_id, webhook_id) is None:
            raise NotFound("webhook")
        page = await self.deliveries.list_for_endpoint(
            account_id, webhook_id, status=status, cursor=cursor, limit=limit
        )
        attempts = await self.deliveries.attempts_for([d.id for d in page.items])
        return page, attempts

    async def search(
        self, account_id: str, f: DeliveryFilter, *, cursor: str | None, limit: int
    ) -> Page[Delivery]:
        """The account's deliveries matching ``f``, newest first."""
        _check_window(f)
        return await self.queries.search(account_id, f, cursor=cursor, limit=limit)

    async def stats(
        self, account_id: str, webhook_id: str, f: DeliveryFilter
    ) -> tuple[WebhookStats, Delivery | None]:
        """The webhook's statistics, and for a FIFO webhook the delivery at the head of
        its line (the one the others wait for), if any."""
        endpoint = await self._endpoint(account_id, webhook_id)
        _check_window(f)
        stats = await self.queries.stats(account_id, f)
        head = None
        if endpoint.ordering is Ordering.FIFO:
            head = await self.queries.head_of_line(webhook_id)
        return stats, head

    async def finished_per_minute(
        self, account_id: str, minutes: int, app_id: str | None = None
    ) -> list[tuple[datetime, int, int]]:
        """The last ``minutes`` minutes, oldest first: (minute, succeeded, failed), counting
        deliveries as they finish for good."""
        now = self.ctx.now().replace(second=0, microsecond=0)
        first = now - timedelta(minutes=minutes - 1)
        counts = await self.queries.finished_per_minute(account_id, first, app_id)
        out = []
        for i in range(minutes):
            at = first + timedelta(minutes=i)
            out.append(
                (
                    at,
                    counts.get((at, DeliveryStatus.SUCCEEDED.value), 0),
                    counts.get((at, DeliveryStatus.FAILED.value), 0),
                )
            )
        return out

    async def newest_attempt_id(
        self, account_id: str, *, app_id: str | None = None, endpoint_id: str | None = None
    ) -> str | None:
        """The newest attempt to the account's webhooks (of one application, or one
        webhook): what a page following new attempts watches."""
        return await self.queries.newest_attempt_id(
            account_id, app_id=app_id, endpoint_id=endpoint_id
        )

    async def count(self, account_id: str, f: DeliveryFilter) -> int:
        """How many of the account's deliveries match ``f``."""
        return await self.queries.count(account_id, f)

    async def cancel(self, account_id: str, delivery_id: str) -> Delivery:
        """Cancel a pending or held delivery for good (it skips a FIFO line's head)."""
        done = await self.queries.cancel(account_id, delivery_id, self.ctx.now())
        if done is None:
            raise NotFound("delivery")
        changed, delivery = done
        if not changed:
            if delivery.status is DeliveryStatus.SENDING:
                raise Conflict(
                    "the delivery is being sent now; only a waiting one can be cancelled",
                    code="delivery_in_flight",
                )
            raise Conflict(
                f"the delivery is {delivery.status.value}; only a waiting one can be cancelled",
                code="delivery_finished",
            )
        # What waited behind it in a FIFO line may be due now.
        self.ctx.notifier.notify()
        return delivery

    async def attempts_page(
        self,
        account_id: str,
        *,
        endpoint_id: str | None = None,
        message_id: str | None = None,
        succeeded: bool | None = None,
        cursor: str | None,
        limit: int,
    ) -> Page[Attempt]:
        """Attempts of one webhook and/or one event, newest first."""
        return await self.queries.attempts_page(
            account_id,
            endpoint_id=endpoint_id,
            message_id=message_id,
            succeeded=succeeded,
            cursor=cursor,
            limit=limit,
        )

    async def attempt(self, account_id: str, attempt_id: str) -> tuple[Attempt, Endpoint]:
        """One attempt with the exact request it sent, and the webhook it went to (whose
        secret headers are masked when shown)."""
        found = await self.queries.attempt(account_id, attempt_id)
        if found is None:
            raise NotFound("attempt")
        attempt, endpoint_id = found
        return attempt, await self._endpoint(account_id, endpoint_id)

    async def retry(self, account_id: str, delivery_id: str) -> Delivery:
        """Send a finished delivery once more, now (a manual attempt)."""
        delivery = await self.deliveries.get(account_id, delivery_id)
        if delivery is None:
            raise NotFound("delivery")
        endpoint = await self.endpoints.get(account_id, delivery.endpoint_id)
        if endpoint is None or endpoint.status is not EndpointStatus.ACTIVE:
            raise Conflict(
                "the webhook is not active; re-enable it first", code="webhook_not_active"
            )
        scheduled = await self.deliveries.schedule_manual(account_id, delivery_id, self.ctx.now())
        if scheduled is None:
            raise NotFound("delivery")
        changed, updated = scheduled
        if not changed:
            raise Conflict(
                f"the delivery is {updated.status.value}; only a finished one can be retried",
                code="delivery_in_progress",
            )
        self.ctx.notifier.notify()
        return updated

    async def resend(self, account_id: str, event_id: str, webhook_id: str) -> Sent:
        """A new delivery of an existing event to one webhook, subscribed or not."""
        message = await self.messages.get(account_id, event_id)
        if message is None:
            raise NotFound("event")
        endpoint = await self._active(account_id, webhook_id)
        delivery_id = self.ctx.new_id("dlv")
        await self.messages.deliver_to(
            message, endpoint.id, delivery_id, now=self.ctx.now(), new=False, test=False
        )
        self.ctx.notifier.notify()
        return Sent(message.id, delivery_id, endpoint.id, message.event_type)

    async def send_test(
        self, account_id: str, webhook_id: str, event_type: str | None, data: bytes | None
    ) -> Sent:
        """One event to this webhook alone, marked as a test: the given data, else the
        type's example, else a ``hookline.test`` ping."""
        endpoint = await self._active(account_id, webhook_id)
        kind = event_type or TEST
        if not is_valid_event_type(kind):
            raise InvalidInput(
                "type must be letters, digits, _ or -, in dot-separated parts",
                code="invalid_event_type",
            )
        now = self.ctx.now()
        if data is None and self.examples is not None:
            data = await self.examples(account_id, kind)
        payload = data if data is not None else ping(now)
        message = Message(
            id=self.ctx.new_id("msg"),
            account_id=account_id,
            app_id=endpoint.app_id,
            event_type=kind,
            payload=payload.decode(),
            idempotency_key=None,
            created_at=now,
        )
        delivery_id = self.ctx.new_id("dlv")
        await self.messages.deliver_to(
            message, endpoint.id, delivery_id, now=now, new=True, test=True
        )
        self.ctx.notifier.notify()
        return Sent(message.id, delivery_id, endpoint.id, kind)

    async def _endpoint(self, account_id: str, webhook_id: str) -> Endpoint:
        endpoint = await self.endpoints.get(account_id, webhook_id)
        if endpoint is None:
            raise NotFound("webhook")
        return endpoint

    async def _active(self, account_id: str, webhook_id: str) -> Endpoint:
        endpoint = await self._endpoint(account_id, webhook_id)
        if endpoint.status is not EndpointStatus.ACTIVE:
            raise Conflict(
                "the webhook is not active; re-enable it first", code="webhook_not_active"
            )
        return endpoint


def _check_window(f: DeliveryFilter) -> None:
    if f.since is not None and f.until is not None and f.until <= f.since:
        raise InvalidInput("until must be later than since", code="invalid_window")
