"""Delivery control in the store: the controlled half of a claim (rate limits, FIFO,
circuit probes, pauses), and the circuit and pause changes recording an outcome makes.

Only webhooks flagged ``controlled`` come through here; the plain claim leaves them
out with one extra term on the row it already joins. The worker looks here only when a
controlled webhook may be ready (``Claimed.next_look`` says when), so webhooks without
any of these options cost no additional query. Everything here runs inside the caller's write
transaction: on PostgreSQL each controlled webhook's row is locked (``SKIP LOCKED``), so
two workers never take its next slot, its FIFO head or its probe at the same time; on
SQLite the single writer gives the same.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hookline.domain import control, operational
from hookline.domain.models import (
    Circuit,
    DeliveryMode,
    DeliveryStatus,
    EndpointStatus,
    Ordering,
)
from hookline.store.tables import deliveries, endpoints

PENDING = DeliveryStatus.PENDING.value
SENDING = DeliveryStatus.SENDING.value
CLOSED = Circuit.CLOSED.value


@dataclass(slots=True)
class Claimed:
    ids: list[str] = field(default_factory=list)
    probes: set[str] = field(default_factory=set)
    # When the controlled webhooks may next have something to claim: ``now`` when one
    # was ready (look again next round), the earliest ``send_after`` still ahead when
    # none was, None when no controlled webhook is waiting on a time at all.
    next_look: datetime | None = None


@dataclass(frozen=True, slots=True)
class Control:
    """What a batch of outcomes changes in delivery control (``apply_outcomes`` writes it)."""

    pauses: dict[str, datetime] = field(default_factory=dict)
    probes: dict[str, bool] = field(default_factory=dict)
    trips: set[str] = field(default_factory=set)
    cooldown: float = 30.0

    def __bool__(self) -> bool:
        return bool(self.pauses or self.probes or self.trips)


def aware(value: Any) -> datetime | None:
    # An aggregate over an expression loses the column's type on SQLite: naive UTC text.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def claim_controlled(
    conn: Any,
    *,
    is_sqlite: bool,
    owner: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
    exclude_endpoints: Collection[str],
) -> Claimed:
    """Lease what the controlled webhooks allow now, up to ``limit`` deliveries."""
    found = Claimed()
    ready = (
        sa.select(
            endpoints.c.id,
            endpoints.c.rate_limit,
            endpoints.c.ordering,
            endpoints.c.circuit,
            endpoints.c.send_after,
        )
        .where(
            endpoints.c.controlled.is_(True),
            sa.or_(endpoints.c.send_after.is_(None), endpoints.c.send_after <= now),
            endpoints.c.status == EndpointStatus.ACTIVE.value,
            endpoints.c.mode == DeliveryMode.PUSH.value,
        )
        .order_by(endpoints.c.send_after.nulls_first())
        .limit(limit)
    )
    if exclude_endpoints:
        ready = ready.where(endpoints.c.id.not_in(list(exclude_endpoints)))
    if not is_sqlite:
        ready = ready.with_for_update(skip_locked=True)
    rows = (await conn.execute(ready)).all()
    found.next_look = now
    if not rows and not exclude_endpoints:
        found.next_look = await _next_ready(conn, now)
    for ep in rows:
        room = limit - len(found.ids)
        if room <= 0:
            break
        probe = ep.circuit != CLOSED
        fifo = ep.ordering == Ordering.FIFO.value
        if not probe and not fifo and ep.rate_limit is None:
            # Only paused (a 429), and the pause is over: back to the plain claim.
            await conn.execute(
                endpoints.update()
                .where(endpoints.c.id == ep.id, endpoints.c.rate_limit.is_(None))
                .where(endpoints.c.ordering != Ordering.FIFO.value, endpoints.c.circuit == CLOSED)
                .values(controlled=False, send_after=None)
            )
            continue
        n = 1 if probe or fifo else room
        if ep.rate_limit is not None:
            n = min(n, control.allowance(ep.rate_limit, ep.send_after, now))
        ids = await (_fifo_head(conn, ep.id, now) if fifo else _due(conn, ep.id, now, n, is_sqlite))
        ids = ids[:n]
        if not ids:
            continue
        await conn.execute(
            deliveries.update()
            .where(deliveries.c.id.in_(ids), deliveries.c.status == PENDING)
            .values(status=SENDING, lease_owner=owner, lease_expires_at=lease_until)
        )
        found.ids += ids
        changes: dict[str, Any] = {}
        if ep.rate_limit is not None:
            changes["send_after"] = control.after_sending(
                ep.rate_limit, ep.send_after, now, len(ids)
            )
        if probe:
            # No other send until the probe's outcome is recorded, or its lease runs out
            # (its worker died) and another probe goes.
            found.probes.update(ids)
            changes |= {"circuit": Circuit.HALF_OPEN.value, "send_after": lease_until}
        if changes:
            await conn.execute(endpoints.update().where(endpoints.c.id == ep.id).values(changes))
    return found


async def _next_ready(conn: Any, now: datetime) -> datetime | None:
    """The earliest time ahead at which a controlled webhook's ``send_after`` passes."""
    soonest = await conn.execute(
        sa.select(sa.func.min(endpoints.c.send_after)).where(
            endpoints.c.controlled.is_(True),
            endpoints.c.send_after > now,
            endpoints.c.status == EndpointStatus.ACTIVE.value,
            endpoints.c.mode == DeliveryMode.PUSH.value,
        )
    )
    return aware(soonest.scalar_one_or_none())


async def _due(conn: Any, endpoint_id: str, now: datetime, n: int, is_sqlite: bool) -> list[str]:
    if n <= 0:
        return []
    stmt = (
        sa.select(deliveries.c.id)
        .where(
            deliveries.c.endpoint_id == endpoint_id,
            deliveries.c.status == PENDING,
            deliveries.c.next_attempt_at <= now,
        )
        .order_by(deliveries.c.next_attempt_at)
        .limit(n)
    )
    if not is_sqlite:
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await conn.execute(stmt)).scalars().all())


async def _fifo_head(conn: Any, endpoint_id: str, now: datetime) -> list[str]:
    """The webhook's oldest unfinished delivery, if it is due and nothing is in flight."""
    head = await fifo_head(conn, endpoint_id)
    if head is None or head.status != PENDING or head.next_attempt_at > now:
        return []
    return [str(head.id)]


async def fifo_head(conn: Any, endpoint_id: str) -> Any:
    """The head of a FIFO webhook's line: the delivery in flight, else the oldest
    pending one (delivery ids grow with time, so the lowest is the first published)."""
    for status in (SENDING, PENDING):
        row = (
            await conn.execute(
                sa.select(deliveries)
                .where(deliveries.c.endpoint_id == endpoint_id, deliveries.c.status == status)
                .order_by(deliveries.c.id)
                .limit(1)
            )
        ).first()
        if row is not None:
            return row
    return None


async def apply_outcomes(
    conn: Any,
    *,
    now: datetime,
    pauses: Mapping[str, datetime],
    probes: Mapping[str, bool],
    trips: Collection[str],
    cooldown: float,
) -> list[operational.OperationalEvent]:
    """Pause webhooks whose receiver asked (``pauses``: until when), settle probes
    (``probes``: whether each webhook's probe succeeded), and open the circuits of
    ``trips``. Returns the circuit events to publish."""
    events: list[operational.OperationalEvent] = []
    probe_at = now + timedelta(seconds=cooldown)
    returning = (endpoints.c.id, endpoints.c.account_id, endpoints.c.app_id, endpoints.c.url)
    for endpoint_id, until in pauses.items():
        await conn.execute(
            endpoints.update()
            .where(endpoints.c.id == endpoint_id)
            .values(
                controlled=True,
                send_after=sa.case(
                    (endpoints.c.send_after > until, endpoints.c.send_after), else_=until
                ),
            )
        )
    for endpoint_id, succeeded in probes.items():
        half_open = endpoints.update().where(
            endpoints.c.id == endpoint_id, endpoints.c.circuit == Circuit.HALF_OPEN.value
        )
        if succeeded:
            rows = await conn.execute(
                half_open.values(
                    circuit=CLOSED,
                    send_after=None,
                    controlled=sa.or_(
                        endpoints.c.rate_limit.is_not(None),
                        endpoints.c.ordering == Ordering.FIFO.value,
                    ),
                ).returning(*returning)
            )
            events += [
                operational.circuit_closed(r.account_id, r.app_id, r.id, r.url, now) for r in rows
            ]
        else:
            await conn.execute(half_open.values(circuit=Circuit.OPEN.value, send_after=probe_at))
    if trips:
        rows = await conn.execute(
            endpoints.update()
            .where(endpoints.c.id.in_(list(trips)), endpoints.c.circuit == CLOSED)
            .values(circuit=Circuit.OPEN.value, send_after=probe_at, controlled=True)
            .returning(*returning)
        )
        events += [
            operational.circuit_opened(r.account_id, r.app_id, r.id, r.url, now, probe_at)
            for r in rows
        ]
    return events
