"""Operational events: what Hookline publishes into an account about its own work.

A webhook receives them only when it names them (``hookline.*`` or an exact name);
``*`` and other families never include them (see :mod:`hookline.domain.matching`).
Deliveries of operational events, and test deliveries, raise none about themselves, so
a failing webhook that subscribes to them cannot feed itself.

Which events one recorded attempt raises is decided here, purely, from the attempt and
its decision; the store writes them in the transaction that records the attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from hookline.domain.dispatch import Outcome
from hookline.domain.envelope import format_time
from hookline.domain.models import DeliveryStatus, Endpoint, Trigger

PREFIX = "hookline."
WEBHOOK_DISABLED = "hookline.webhook.disabled"
WEBHOOK_ENABLED = "hookline.webhook.enabled"
WEBHOOK_CIRCUIT_OPENED = "hookline.webhook.circuit_opened"
WEBHOOK_CIRCUIT_CLOSED = "hookline.webhook.circuit_closed"
DELIVERY_EXHAUSTED = "hookline.delivery.exhausted"
DELIVERY_FAILING = "hookline.delivery.failing"
DELIVERY_RECOVERED = "hookline.delivery.recovered"
TEST = "hookline.test"

TYPES = (
    WEBHOOK_DISABLED,
    WEBHOOK_ENABLED,
    WEBHOOK_CIRCUIT_OPENED,
    WEBHOOK_CIRCUIT_CLOSED,
    DELIVERY_EXHAUSTED,
    DELIVERY_FAILING,
    DELIVERY_RECOVERED,
    TEST,
)


def is_operational(event_type: str) -> bool:
    """Whether this type is in Hookline's own namespace (accounts may not publish it)."""
    return event_type.startswith(PREFIX)


@dataclass(frozen=True, slots=True)
class OperationalEvent:
    """One event to publish into an account (to its webhooks in ``app_id``)."""

    account_id: str
    app_id: str
    event_type: str
    payload: bytes


def _event(account_id: str, app_id: str, event_type: str, data: dict[str, Any]) -> OperationalEvent:
    return OperationalEvent(account_id, app_id, event_type, orjson.dumps(data))


def _attempt(o: Outcome) -> dict[str, Any]:
    r = o.result
    return {
        "attempt_id": o.attempt_id,
        "created_at": format_time(r.started_at),
        "status_code": r.status_code,
        "error": r.error,
        "error_detail": r.error_detail,
        "duration_ms": r.duration_ms,
    }


def for_outcome(o: Outcome, *, failing_after: int) -> OperationalEvent | None:
    """The delivery event one recorded attempt raises, if any.

    - ``exhausted``: the delivery failed for good (with its last attempt).
    - ``failing``: its ``failing_after``-th attempt failed and it will be tried again.
    - ``recovered``: it succeeded on a scheduled attempt after ``failing`` was raised.
    """
    if o.test or is_operational(o.event_type):
        return None
    base = {
        "delivery_id": o.delivery_id,
        "webhook_id": o.endpoint_id,
        "event_id": o.message_id,
        "event_type": o.event_type,
        "attempts": o.attempts_made,
    }
    status = o.decision.status
    if status is DeliveryStatus.FAILED:
        kind, data = DELIVERY_EXHAUSTED, base | {"last_attempt": _attempt(o)}
    elif (
        status is DeliveryStatus.PENDING
        and o.trigger is Trigger.SCHEDULED
        and failing_after > 0
        and o.attempts_made == failing_after
    ):
        next_at = o.decision.next_attempt_at
        kind = DELIVERY_FAILING
        data = base | {
            "last_attempt": _attempt(o),
            "next_attempt_at": format_time(next_at) if next_at else None,
        }
    elif (
        status is DeliveryStatus.SUCCEEDED
        and o.trigger is Trigger.SCHEDULED
        and failing_after > 0
        and o.attempts_made > failing_after
    ):
        kind, data = DELIVERY_RECOVERED, base | {"last_attempt": _attempt(o)}
    else:
        return None
    return _event(o.account_id, o.app_id, kind, data)


def webhook_disabled(
    account_id: str, app_id: str, webhook_id: str, url: str, reason: str, at: datetime
) -> OperationalEvent:
    return _event(
        account_id,
        app_id,
        WEBHOOK_DISABLED,
        {
            "webhook_id": webhook_id,
            "callback_url": url,
            "reason": reason,
            "disabled_at": format_time(at),
        },
    )


def webhook_enabled(endpoint: Endpoint, at: datetime) -> OperationalEvent:
    return _event(
        endpoint.account_id,
        endpoint.app_id,
        WEBHOOK_ENABLED,
        {"webhook_id": endpoint.id, "callback_url": endpoint.url, "enabled_at": format_time(at)},
    )


def circuit_opened(
    account_id: str, app_id: str, webhook_id: str, url: str, at: datetime, probe_at: datetime
) -> OperationalEvent:
    """Most recent attempts failed: the webhook is paused until ``probe_at``."""
    return _event(
        account_id,
        app_id,
        WEBHOOK_CIRCUIT_OPENED,
        {
            "webhook_id": webhook_id,
            "callback_url": url,
            "opened_at": format_time(at),
            "probe_at": format_time(probe_at),
        },
    )


def circuit_closed(
    account_id: str, app_id: str, webhook_id: str, url: str, at: datetime
) -> OperationalEvent:
    """A probe delivery succeeded: the webhook is sent to at full rate again."""
    return _event(
        account_id,
        app_id,
        WEBHOOK_CIRCUIT_CLOSED,
        {"webhook_id": webhook_id, "callback_url": url, "closed_at": format_time(at)},
    )


def ping(at: datetime) -> bytes:
    """The data of a ``hookline.test`` event."""
    return orjson.dumps({"message": "a test event from Hookline", "sent_at": format_time(at)})
