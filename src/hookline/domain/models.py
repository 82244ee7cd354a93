"""The entities, as frozen values. Rows become these in the store; nothing else does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from hookline.domain.signing import Scheme


class EndpointStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    DELETED = "deleted"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Published while its webhook was disabled: kept, not sent, until recovered.
    HELD = "held"


class DeliveryMode(StrEnum):
    """How an endpoint's deliveries leave: the worker pushes them to its URL, or a
    ``hookline listen`` session pulls them over a stream it opened."""

    PUSH = "push"
    LISTEN = "listen"


class Ordering(StrEnum):
    UNORDERED = "unordered"
    # One delivery at a time, in publish order; a later one waits for the earlier one.
    FIFO = "fifo"


class Circuit(StrEnum):
    CLOSED = "closed"
    # Paused for a cool-down after most recent attempts failed.
    OPEN = "open"
    # The cool-down is over and one probe delivery is out.
    HALF_OPEN = "half_open"


class PayloadFormat(StrEnum):
    """What a delivery's body is: Hookline's event envelope around the data, or the
    data itself (as Svix sends it)."""

    ENVELOPE = "envelope"
    RAW = "raw"


class Trigger(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    account_id: str
    name: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Application:
    """A group of endpoints; events are published to one application's endpoints."""

    id: str
    account_id: str
    uid: str | None
    name: str
    metadata: dict[str, str]
    rate_limit: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    account_id: str
    app_id: str
    url: str
    description: str
    event_types: tuple[str, ...] | None
    # Secrets and header values never show in a repr (logs, tracebacks, test output).
    secret: str = field(repr=False)
    previous_secret: str | None = field(repr=False)
    previous_secret_expires_at: datetime | None
    scheme: Scheme
    signature_header: str | None
    retry_policy: dict[str, Any] | None
    headers: dict[str, str] = field(repr=False)
    status: EndpointStatus
    disabled_reason: str | None
    failure_count: int
    first_failure_at: datetime | None
    last_failure_at: datetime | None
    created_at: datetime
    updated_at: datetime
    send_traceparent: bool = False
    secret_headers: tuple[str, ...] = ()

    def masked_headers(self) -> dict[str, str]:
        """The custom headers, with the values of those marked secret masked."""
        return mask_headers(self.headers, self.secret_headers)

    # Trigger rules as documents (domain/rules.py compiles them); None: every event.
    rules: tuple[dict[str, Any], ...] | None = None
    mode: DeliveryMode = DeliveryMode.PUSH
    # Delivery control (docs/delivery-control.md).
    rate_limit: float | None = None
    ordering: Ordering = Ordering.UNORDERED
    timeout: float | None = None
    circuit: Circuit = Circuit.CLOSED
    payload_format: PayloadFormat = PayloadFormat.ENVELOPE
    # Unique within the application when set (the Svix API addresses endpoints by it).
    uid: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # Only messages in one of these channels; None: every message.
    channels: tuple[str, ...] | None = None

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The current secret, plus the previous one while its grace period lasts."""
        if (
            self.previous_secret
            and self.previous_secret_expires_at is not None
            and self.previous_secret_expires_at > now
        ):
            return (self.secret, self.previous_secret)
        return (self.secret,)


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    account_id: str
    app_id: str
    event_type: str
    # The data as JSON text, as it is stored and read back: no bytes copy beside it.
    payload: str
    idempotency_key: str | None
    created_at: datetime
    # W3C traceparent of the publish, when it was traced; delivery spans link to it.
    trace_context: str | None = None
    channels: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    # Chosen by the publisher: no delivery is due before this time.
    deliver_at: datetime | None = None

    @property
    def due_at(self) -> datetime:
        """When the event's deliveries first become due."""
        if self.deliver_at is not None and self.deliver_at > self.created_at:
            return self.deliver_at
        return self.created_at


@dataclass(frozen=True, slots=True)
class Published:
    """The answer to publishing one event: the event (the first one, for a repeated
    idempotency key), how many deliveries it fanned out to, and whether it is new.
    ``held`` counts those kept for disabled webhooks (not in ``deliveries``); ``handed``
    those of ``deliveries`` given straight to this process's worker (no claim needed)."""

    message: Message
    deliveries: int
    created: bool
    held: int = 0
    handed: int = 0
    # Some of its deliveries, due now, are to controlled webhooks (delivery control).
    controlled: bool = False


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    message_id: str
    endpoint_id: str
    account_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    trigger: Trigger
    last_attempt_at: datetime | None
    last_status_code: int | None
    created_at: datetime
    updated_at: datetime
    event_type: str = ""
    test: bool = False


@dataclass(frozen=True, slots=True)
class Attempt:
    id: str
    delivery_id: str
    endpoint_id: str
    message_id: str
    created_at: datetime
    trigger: Trigger
    status_code: int | None
    response_body: str | None
    duration_ms: int
    error: str | None
    error_detail: str | None
    request: SentRequest | None = None
    response_headers: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True, slots=True)
class SentRequest:
    """Exactly what one attempt sent: headers in the order sent, the body byte for byte."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


MASK = "********"


def mask_headers(headers: dict[str, str], secret: tuple[str, ...]) -> dict[str, str]:
    names = {n.lower() for n in secret}
    return {k: MASK if k.lower() in names else v for k, v in headers.items()}


@dataclass(frozen=True, slots=True)
class EventType:
    """A catalog entry: an event type's description, and optionally a JSON Schema its
    events' data must match and an example. ``version`` grows with every change."""

    id: str
    account_id: str
    name: str
    description: str
    schema: Any
    example: Any
    version: int
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Dispatch:
    """A claimed delivery with everything needed to send it."""

    delivery_id: str
    attempts: int
    trigger: Trigger
    message: Message
    endpoint: Endpoint
    test: bool = False
    # The one delivery sent to a webhook whose circuit is half open: its outcome closes
    # the circuit or opens it again.
    probe: bool = False
