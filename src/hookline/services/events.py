"""Publishing events and reading them back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from hookline.domain.matching import is_valid_event_type, subscribes
from hookline.domain.models import Attempt, Delivery, Endpoint, Message, Page, Published
from hookline.errors import InvalidInput, NotFound
from hookline.services.common import Context
from hookline.store.accounts import AccountRepository
from hookline.store.deliveries import DeliveryRepository
from hookline.store.messages import MessageRepository

MAX_IDEMPOTENCY_KEY = 255
MAX_BATCH = 500


@dataclass(frozen=True, slots=True)
class EventInput:
    event_type: str
    payload_json: bytes
    idempotency_key: str | None = None


def _subscribed(message: Message, candidates: list[Endpoint]) -> list[Endpoint]:
    return [ep for ep in candidates if subscribes(ep.event_types, message.event_type)]


@dataclass(frozen=True, slots=True)
class EventDetail:
    message: Message
    deliveries: list[Delivery]
    attempts: dict[str, list[Attempt]]


class EventService:
    def __init__(
        self,
        messages: MessageRepository,
        deliveries: DeliveryRepository,
        accounts: AccountRepository,
        ctx: Context,
        idempotency_ttl: float,
    ) -> None:
        self.messages = messages
        self.deliveries = deliveries
        self.accounts = accounts
        self.ctx = ctx
        self.idempotency_ttl = timedelta(seconds=idempotency_ttl)
        self._default_app: dict[str, str] = {}

    async def publish(
        self, account_id: str, event_type: str, payload_json: bytes, idempotency_key: str | None
    ) -> Published:
        """Commit the event and a delivery per subscribed active webhook, then wake workers.

        ``payload_json`` is the event's ``data`` already serialised as JSON.
        """
        (published,) = await self.publish_batch(
            account_id, [EventInput(event_type, payload_json, idempotency_key)]
        )
        return published

    async def publish_batch(self, account_id: str, events: Sequence[EventInput]) -> list[Published]:
        """Publish several events in one transaction: all are accepted, or none."""
        if not 1 <= len(events) <= MAX_BATCH:
            raise InvalidInput(f"a batch holds 1 to {MAX_BATCH} events", code="invalid_batch")
        for i, e in enumerate(events):
            where = f"events[{i}]: " if len(events) > 1 else ""
            if not is_valid_event_type(e.event_type):
                raise InvalidInput(
                    f"{where}type must be letters, digits, _ or -, in dot-separated parts "
                    "(e.g. invoice.paid)",
                    code="invalid_event_type",
                )
            key = e.idempotency_key
            if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
                raise InvalidInput(
                    f"{where}idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
                    code="invalid_idempotency_key",
                )
        app_id = self._default_app.get(account_id)
        if app_id is None:
            app_id = self._default_app[account_id] = await self.accounts.default_app_id(account_id)
        now = self.ctx.now()
        batch = [
            Message(
                id=self.ctx.new_id("msg"),
                account_id=account_id,
                app_id=app_id,
                event_type=e.event_type,
                payload=e.payload_json,
                idempotency_key=e.idempotency_key,
                created_at=now,
            )
            for e in events
        ]
        published = await self.messages.publish(
            batch,
            select_endpoints=_subscribed,
            new_delivery_id=lambda: self.ctx.new_id("dlv"),
            idempotency_expires_at=now + self.idempotency_ttl,
        )
        if any(p.created and p.deliveries for p in published):
            self.ctx.notifier.notify()
        return published

    async def get(self, account_id: str, event_id: str) -> EventDetail:
        message = await self.messages.get(account_id, event_id)
        if message is None:
            raise NotFound("event")
        deliveries = await self.deliveries.list_for_message(account_id, event_id)
        attempts = await self.deliveries.attempts_for([d.id for d in deliveries])
        return EventDetail(message=message, deliveries=deliveries, attempts=attempts)

    async def list_page(
        self, account_id: str, *, event_type: str | None, cursor: str | None, limit: int
    ) -> Page[Message]:
        return await self.messages.list_page(
            account_id, event_type=event_type, cursor=cursor, limit=limit
        )
