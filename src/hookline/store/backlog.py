"""The delivery backlog, for the metrics: a few aggregate queries over indexed columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from hookline.domain.models import Circuit, DeliveryStatus, EndpointStatus
from hookline.store.database import Database
from hookline.store.tables import deliveries, endpoints


@dataclass(frozen=True, slots=True)
class Backlog:
    pending: int
    """Pending deliveries of active webhooks: what workers will send."""
    held: int
    """Pending deliveries of webhooks that are not active (disabled): kept, not sent."""
    oldest_due_at: datetime | None
    """When the most overdue sendable delivery became due (None: nothing is due)."""
    circuits: dict[str, int] = field(default_factory=dict)
    """Active webhooks whose circuit is not closed, by state (open, half_open)."""


class BacklogRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def sample(self, now: datetime) -> Backlog:
        pending = deliveries.c.status == DeliveryStatus.PENDING.value
        active = endpoints.c.status == EndpointStatus.ACTIVE.value
        joined = deliveries.join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
        async with self.db.read() as conn:
            counts = (
                await conn.execute(
                    sa.select(
                        sa.func.count().filter(active),
                        sa.func.count().filter(sa.not_(active)),
                    )
                    .select_from(joined)
                    .where(pending)
                )
            ).one()
            oldest = (
                await conn.execute(
                    sa.select(sa.func.min(deliveries.c.next_attempt_at))
                    .select_from(joined)
                    .where(pending, active, deliveries.c.next_attempt_at <= now)
                )
            ).scalar_one_or_none()
            # Only controlled webhooks can have a circuit that is not closed (the index).
            circuits = await conn.execute(
                sa.select(endpoints.c.circuit, sa.func.count())
                .where(
                    endpoints.c.controlled.is_(True),
                    endpoints.c.circuit != Circuit.CLOSED.value,
                    active,
                )
                .group_by(endpoints.c.circuit)
            )
            by_state = {str(state): int(n) for state, n in circuits}
        return Backlog(
            pending=int(counts[0] or 0),
            held=int(counts[1] or 0),
            oldest_due_at=oldest if isinstance(oldest, datetime) else None,
            circuits=by_state,
        )
