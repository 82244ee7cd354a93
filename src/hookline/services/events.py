"""Publishing events and reading them back."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hookline import tracing
from hookline.domain.matching import is_valid_event_type
from hookline.domain.models import Attempt, Delivery, Message, Page, Published
from hookline.domain.operational import is_operational
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.services.common import Context
from hookline.services.event_types import EventTypeService, SchemaMismatch
from hookline.services.routing import RuleBook, parse_data
from hookline.store.accounts import AccountRepository
from hookline.store.deliveries import DeliveryRepository
from hookline.store.event_types import TypeState
from hookline.store.messages import (
    AlsoInTransaction,
    MessageFilters,
    MessageRepository,
    StaleCatalog,
)

MAX_IDEMPOTENCY_KEY = 255
MAX_BATCH = 500
# Publishing again after the catalog changed under it; more than a few means a storm.
MAX_CATALOG_RETRIES = 4


@dataclass(frozen=True, slots=True)
class EventInput:
    event_type: str
    # The data as JSON. Text is stored as it is; bytes are decoded into a second copy,
    # so a caller holding a large payload passes text (``orjson.dumps(...).decode()``).
    payload_json: str | bytes
    idempotency_key: str | None = None
    # The data already parsed, when the caller has it (spares parsing it again).
    data: Any = None
    has_data: bool = False
    # No delivery is due before this (aware) time; a past time means now.
    deliver_at: datetime | None = None


def _text(payload_json: str | bytes) -> str:
    return payload_json if isinstance(payload_json, str) else payload_json.decode()


class _Data:
    """Each event's data, parsed only if a schema or a rule needs it, and at most once."""

    def __init__(self, events: Sequence[EventInput]) -> None:
        self.events = events
        self._parsed: dict[int, Any] = {}

    def __call__(self, i: int) -> Any:
        if i not in self._parsed:
            e = self.events[i]
            self._parsed[i] = e.data if e.has_data else parse_data(e.payload_json)
        return self._parsed[i]


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
        types: EventTypeService,
        rules: RuleBook,
        schedule_horizon: float = 30 * 24 * 3600.0,
    ) -> None:
        # How far ahead deliver_at may be: the retention window, so that an event is
        # never kept longer waiting than it would be kept once delivered.
        self.schedule_horizon = timedelta(seconds=schedule_horizon)
        self.types = types
        self.rules = rules
        self.messages = messages
        self.deliveries = deliveries
        self.accounts = accounts
        self.ctx = ctx
        self.idempotency_ttl = timedelta(seconds=idempotency_ttl)
        self._default_app: dict[str, str] = {}

    async def publish(
        self,
        account_id: str,
        event_type: str,
        payload_json: str | bytes,
        idempotency_key: str | None,
    ) -> Published:
        """Commit the event and a delivery per subscribed webhook (held for a disabled one),
        then wake workers.

        ``payload_json`` is the event's ``data`` already serialised as JSON.
        """
        (published,) = await self.publish_batch(
            account_id, [EventInput(event_type, payload_json, idempotency_key)]
        )
        return published

    async def publish_batch(
        self,
        account_id: str,
        events: Sequence[EventInput],
        *,
        also: AlsoInTransaction | None = None,
        max_batch: int = MAX_BATCH,
        app_id: str | None = None,
        channels: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
    ) -> list[Published]:
        """Publish several events in one transaction: all are accepted, or none.

        ``also`` (store work of another aggregate, such as a source's cursor) runs in the
        same transaction; with it the batch may be empty and larger than an API batch.
        """
        least = 0 if also is not None else 1
        if not least <= len(events) <= max_batch:
            raise InvalidInput(f"a batch holds {least} to {max_batch} events", code="invalid_batch")
        for i, e in enumerate(events):
            where = f"events[{i}]: " if len(events) > 1 else ""
            if not is_valid_event_type(e.event_type):
                raise InvalidInput(
                    f"{where}type must be letters, digits, _ or -, in dot-separated parts "
                    "(e.g. invoice.paid)",
                    code="invalid_event_type",
                )
            if is_operational(e.event_type):
                raise InvalidInput(
                    f"{where}types starting with hookline. are Hookline's own",
                    code="reserved_event_type",
                )
            key = e.idempotency_key
            if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
                raise InvalidInput(
                    f"{where}idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
                    code="invalid_idempotency_key",
                )
        deliver_at = self._deliver_at(events)
        if app_id is None:
            app_id = self._default_app.get(account_id)
        if app_id is None:
            app_id = self._default_app[account_id] = await self.accounts.default_app_id(account_id)
        channels = _labels(channels, "channels")
        tags = _labels(tags, "tags")
        data = _Data(events)
        names = [e.event_type for e in events]
        for _ in range(MAX_CATALOG_RETRIES):
            # Schemas and rules are checked here, before the publish transaction, against
            # cached catalog states that the transaction verifies.
            states = await self.types.states(account_id, names)
            await self._check_schemas(account_id, events, states, data)
            verdicts = await self.rules.judge(account_id, app_id, len(events), data)
            now = self.ctx.now()
            trace_context = tracing.current_traceparent()
            batch = [
                Message(
                    id=self.ctx.new_id("msg"),
                    account_id=account_id,
                    app_id=app_id,
                    event_type=e.event_type,
                    payload=_text(e.payload_json),
                    idempotency_key=e.idempotency_key,
                    created_at=now,
                    trace_context=trace_context,
                    channels=channels,
                    tags=tags,
                    deliver_at=at,
                )
                for e, at in zip(events, deliver_at, strict=True)
            ]
            try:
                publish = self.messages.publish
                if also is not None:
                    publish = functools.partial(self.messages.publish_with, also=also)
                published = await publish(
                    batch,
                    select_endpoints=self.rules.selector(batch, verdicts, data),
                    new_delivery_id=lambda: self.ctx.new_id("dlv"),
                    idempotency_expires_at=now + self.idempotency_ttl,
                    type_versions={n: s.version if s else None for n, s in states.items()},
                )
                break
            except StaleCatalog:
                self.types.forget(account_id, names)  # changed elsewhere: check again
        else:
            raise Conflict(
                "the event types changed while publishing; try again",
                code="event_type_changed",
            )
        tracing.annotate(**{"hookline.event_id": [p.message.id for p in published]})
        # Deliveries handed to this process's worker are on their way already; the rest
        # wait for a claim.
        if any(p.created and p.deliveries > p.handed for p in published):
            self.ctx.notifier.notify()
        return published

    def _deliver_at(self, events: Sequence[EventInput]) -> list[datetime | None]:
        """Each event's ``deliver_at`` in UTC, refused beyond the retention window."""
        found: list[datetime | None] = []
        latest = self.ctx.now() + self.schedule_horizon
        for i, e in enumerate(events):
            where = f"events[{i}]: " if len(events) > 1 else ""
            if e.deliver_at is None:
                found.append(None)
                continue
            try:
                at = e.deliver_at.astimezone(UTC)
            except (OverflowError, ValueError):
                at = None
            if at is None or at.tzinfo is None:
                raise InvalidInput(
                    f"{where}deliver_at is not a time that can be stored",
                    code="invalid_deliver_at",
                )
            if at > latest:
                raise InvalidInput(
                    f"{where}deliver_at may be at most {_span(self.schedule_horizon)} ahead "
                    "(the retention window)",
                    code="deliver_at_too_far",
                )
            found.append(at)
        return found

    async def _check_schemas(
        self,
        account_id: str,
        events: Sequence[EventInput],
        states: Mapping[str, TypeState | None],
        data: _Data,
    ) -> None:
        """Refuse events of archived types or whose data does not match their type's
        schema."""
        gates = await self.types.gates(account_id, states)
        for i, e in enumerate(events):
            gate = gates.get(e.event_type)
            if gate is None:
                continue
            where = f"events[{i}]: " if len(events) > 1 else ""
            if gate.archived:
                raise Conflict(
                    f"{where}event type {e.event_type} is archived; unarchive it to publish",
                    code="event_type_archived",
                )
            if gate.schema is not None:
                problems = gate.schema.mismatches(data(i))
                if problems:
                    first = problems[0]
                    index = {"index": i} if len(events) > 1 else {}
                    raise SchemaMismatch(
                        f"{where}data does not match the schema of {e.event_type}: "
                        f"{first.path or '/'}: {first.message}",
                        details=[{**index, "path": p.path, "message": p.message} for p in problems],
                    )

    async def get(self, account_id: str, event_id: str) -> EventDetail:
        message = await self.messages.get(account_id, event_id)
        if message is None:
            raise NotFound("event")
        deliveries = await self.deliveries.list_for_message(account_id, event_id)
        attempts = await self.deliveries.attempts_for([d.id for d in deliveries])
        return EventDetail(message=message, deliveries=deliveries, attempts=attempts)

    async def list_page(
        self,
        account_id: str,
        *,
        event_type: str | None,
        cursor: str | None,
        limit: int,
        app_id: str | None = None,
        filters: MessageFilters | None = None,
    ) -> Page[Message]:
        return await self.messages.list_page(
            account_id,
            event_type=event_type,
            cursor=cursor,
            limit=limit,
            app_id=app_id,
            filters=filters,
        )


MAX_LABELS = 10
_LABEL = re.compile(r"[a-zA-Z0-9\-_.:]{1,128}")


def _labels(values: Sequence[str] | None, what: str) -> tuple[str, ...] | None:
    """Channels or tags: at most 10 short names each, kept in order without repeats."""
    if values is None:
        return None
    if len(values) > MAX_LABELS or not all(_LABEL.fullmatch(v) for v in values):
        raise InvalidInput(
            f"{what}: at most {MAX_LABELS}, each 1 to 128 letters, digits, '-', '_', '.' or ':'",
            code=f"invalid_{what}",
        )
    return tuple(dict.fromkeys(values)) or None


def _span(span: timedelta) -> str:
    seconds = span.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
