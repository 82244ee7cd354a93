"""Leases held by workers: giving deliveries back, finding who holds what, returning
expired leases, and when the next delivery is due (``DeliveryRepository`` has these)."""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hookline.domain.models import DeliveryMode, DeliveryStatus, Ordering
from hookline.store.control import aware
from hookline.store.database import Database
from hookline.store.tables import deliveries, endpoints

PENDING = DeliveryStatus.PENDING.value
SENDING = DeliveryStatus.SENDING.value


class Leases:
    db: Database

    async def release(self, owner: str, delivery_ids: Collection[str], now: datetime) -> int:
        """Give leased deliveries back at once, due now, for any worker to take."""
        if not delivery_ids:
            return 0
        async with self.db.write() as conn:
            result = await conn.execute(
                deliveries.update()
                .where(
                    deliveries.c.id.in_(list(delivery_ids)),
                    deliveries.c.lease_owner == owner,
                    deliveries.c.status == SENDING,
                )
                .values(
                    status=PENDING,
                    lease_owner=None,
                    lease_expires_at=None,
                    next_attempt_at=now,
                    updated_at=now,
                )
            )
        return int(result.rowcount)

    async def held_by(self, owner: str) -> int:
        """How many deliveries ``owner`` holds under a lease right now."""
        async with self.db.read() as conn:
            found = await conn.execute(
                sa.select(sa.func.count()).where(
                    deliveries.c.lease_owner == owner, deliveries.c.status == SENDING
                )
            )
            return int(found.scalar_one())

    async def holder(self, delivery_id: str) -> str | None:
        """Who holds a delivery under a lease now (None: nobody)."""
        async with self.db.read() as conn:
            found = await conn.execute(
                sa.select(deliveries.c.lease_owner).where(
                    deliveries.c.id == delivery_id, deliveries.c.status == SENDING
                )
            )
            owner = found.scalar_one_or_none()
        return str(owner) if owner is not None else None

    async def reap_expired(self, now: datetime) -> int:
        """Return deliveries whose worker's lease ran out (it died) to the pending pool."""
        async with self.db.write() as conn:
            result = await conn.execute(
                deliveries.update()
                .where(deliveries.c.status == SENDING, deliveries.c.lease_expires_at <= now)
                .values(
                    status=PENDING,
                    lease_owner=None,
                    lease_expires_at=None,
                    next_attempt_at=now,
                    updated_at=now,
                )
            )
        return int(result.rowcount)

    async def next_due_at(self) -> tuple[datetime | None, datetime | None]:
        """When the earliest pending delivery the worker pushes becomes due: of plain
        webhooks, and of controlled ones (no earlier than their webhook's ``send_after``,
        and for a FIFO webhook only its head: the deliveries behind it wait for it)."""
        # One statement, one round trip: the worker asks this each time it goes idle.
        async with self.db.read() as conn:
            row = (await conn.execute(_next_due())).one()
        return aware(row[0]), aware(row[1])


@functools.cache
def _next_due() -> Any:
    """``Leases.next_due_at``'s one statement, built once (it has no parameters)."""
    start = deliveries.c.next_attempt_at
    wait = sa.case((endpoints.c.send_after > start, endpoints.c.send_after), else_=start)
    line = deliveries.alias("line")
    head = (
        sa.select(sa.func.min(line.c.id))
        .where(
            line.c.endpoint_id == deliveries.c.endpoint_id,
            line.c.status.in_([PENDING, SENDING]),
        )
        .scalar_subquery()
    )
    pushed = (
        deliveries.c.status == PENDING,
        endpoints.c.mode == DeliveryMode.PUSH.value,
    )
    joined = deliveries.join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
    plain = (
        sa.select(sa.func.min(start))
        .select_from(joined)
        .where(*pushed, endpoints.c.controlled.is_(False))
        .scalar_subquery()
    )
    controlled = (
        sa.select(sa.func.min(wait))
        .select_from(joined)
        .where(
            *pushed,
            endpoints.c.controlled.is_(True),
            sa.or_(endpoints.c.ordering != Ordering.FIFO.value, deliveries.c.id == head),
        )
        .scalar_subquery()
    )
    return sa.select(plain, controlled)
