"""The entities, as frozen values. Rows become these in the store; nothing else does."""

from __future__ import annotations

from dataclasses import dataclass
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
class Endpoint:
    id: str
    account_id: str
    app_id: str
    url: str
    description: str
    event_types: tuple[str, ...] | None
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    scheme: Scheme
    signature_header: str | None
    retry_policy: dict[str, Any] | None
    headers: dict[str, str]
    status: EndpointStatus
    disabled_reason: str | None
    failure_count: int
    first_failure_at: datetime | None
    last_failure_at: datetime | None
    created_at: datetime
    updated_at: datetime

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
    payload: bytes
    idempotency_key: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Published:
    """The answer to publishing one event: the event (the first one, for a repeated
    idempotency key), how many deliveries it fanned out to, and whether it is new."""

    message: Message
    deliveries: int
    created: bool


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
