"""Fan-out: the deliveries one message gets, and operational events written inside
another repository's transaction (the state change that causes them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hookline.domain.matching import subscribes
from hookline.domain.models import DeliveryStatus, EndpointStatus, Message, Trigger
from hookline.domain.operational import OperationalEvent
from hookline.store.tables import deliveries, endpoints, messages

# The endpoints a message may fan out to: active ones get it sent, disabled ones held.
LIVE = (EndpointStatus.ACTIVE.value, EndpointStatus.DISABLED.value)


def delivery_row(
    m: Message, endpoint_id: str, delivery_id: str, *, held: bool = False, test: bool = False
) -> dict[str, Any]:
    """A new delivery of ``m``: pending and due at its ``due_at``, or held (for a
    disabled webhook)."""
    return {
        "id": delivery_id,
        "message_id": m.id,
        "endpoint_id": endpoint_id,
        "account_id": m.account_id,
        "status": (DeliveryStatus.HELD if held else DeliveryStatus.PENDING).value,
        "attempts": 0,
        "next_attempt_at": None if held else m.due_at,
        "trigger": Trigger.SCHEDULED.value,
        "created_at": m.created_at,
        "updated_at": m.created_at,
        "event_type": m.event_type,
        "test": test,
        "lease_owner": None,
        "lease_expires_at": None,
    }


def message_row(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "account_id": m.account_id,
        "app_id": m.app_id,
        "event_type": m.event_type,
        "payload": m.payload,
        "idempotency_key": m.idempotency_key,
        "created_at": m.created_at,
        "trace_context": m.trace_context,
        "channels": list(m.channels) if m.channels is not None else None,
        "tags": list(m.tags) if m.tags is not None else None,
        "deliver_at": m.deliver_at,
    }


async def publish_operational(
    conn: Any,
    events: Sequence[OperationalEvent],
    *,
    now: datetime,
    new_id: Callable[[str], str],
) -> int:
    """Write operational events and their deliveries on ``conn`` (the caller's
    transaction). Returns how many deliveries are due now (to wake workers).

    Only runs when something changed state, so the endpoints read here cost nothing
    on the ordinary path."""
    if not events:
        return 0
    scopes = {(e.account_id, e.app_id) for e in events}
    candidates: dict[tuple[str, str], list[Any]] = {s: [] for s in scopes}
    rows = await conn.execute(
        sa.select(
            endpoints.c.id,
            endpoints.c.account_id,
            endpoints.c.app_id,
            endpoints.c.status,
            endpoints.c.event_types,
        ).where(
            endpoints.c.account_id.in_(sorted({a for a, _ in scopes})),
            endpoints.c.app_id.in_(sorted({p for _, p in scopes})),
            endpoints.c.status.in_(LIVE),
        )
    )
    for r in rows:
        if (r.account_id, r.app_id) in candidates:
            candidates[(r.account_id, r.app_id)].append(r)
    new_messages: list[dict[str, Any]] = []
    new_deliveries: list[dict[str, Any]] = []
    for e in events:
        m = Message(
            id=new_id("msg"),
            account_id=e.account_id,
            app_id=e.app_id,
            event_type=e.event_type,
            payload=e.payload.decode(),
            idempotency_key=None,
            created_at=now,
        )
        new_messages.append(message_row(m))
        for ep in candidates[(e.account_id, e.app_id)]:
            if subscribes(ep.event_types, e.event_type):
                held = ep.status != EndpointStatus.ACTIVE.value
                new_deliveries.append(delivery_row(m, ep.id, new_id("dlv"), held=held))
    await conn.execute(messages.insert(), new_messages)
    if new_deliveries:
        await conn.execute(deliveries.insert(), new_deliveries)
    return sum(d["status"] == DeliveryStatus.PENDING.value for d in new_deliveries)
