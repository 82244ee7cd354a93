"""What publishing checks before its transaction: the state of the event types it
publishes, and which webhooks have trigger rules in which version. Callers cache both;
the publish transaction verifies what the cache said (see ``MessageRepository``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from hookline.domain.models import EndpointStatus
from hookline.store.database import Database
from hookline.store.event_types import TypeState
from hookline.store.tables import endpoints, event_types


class RoutingRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def type_states(self, account_id: str, names: Sequence[str]) -> dict[str, TypeState]:
        """Version and state of the named types that are registered."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(
                    event_types.c.name,
                    event_types.c.version,
                    event_types.c.archived_at,
                    event_types.c.schema.is_not(None).label("has_schema"),
                ).where(
                    event_types.c.account_id == account_id,
                    event_types.c.name.in_(list(dict.fromkeys(names))),
                )
            )
            return {
                r.name: TypeState(r.version, r.archived_at is not None, bool(r.has_schema))
                for r in rows
            }

    async def rule_versions(self, account_id: str, app_id: str) -> dict[str, datetime]:
        """The active webhooks of an application that have rules, with their updated_at."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(endpoints.c.id, endpoints.c.updated_at).where(
                    endpoints.c.account_id == account_id,
                    endpoints.c.app_id == app_id,
                    endpoints.c.status == EndpointStatus.ACTIVE.value,
                    endpoints.c.rules.is_not(None),
                )
            )
            return {r.id: r.updated_at for r in rows}
