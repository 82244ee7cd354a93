"""The event catalog: an account's event types, their schemas and examples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hookline.domain.models import EventType, Page
from hookline.store.database import Database
from hookline.store.pagination import fetch_page
from hookline.store.tables import event_types


def event_type_from_row(row: Any) -> EventType:
    return EventType(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        description=row.description,
        schema=row.schema,
        example=row.example,
        version=row.version,
        archived_at=row.archived_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@dataclass(frozen=True, slots=True)
class TypeState:
    """What a publish needs to know of a registered type, without its schema."""

    version: int
    archived: bool
    has_schema: bool


class EventTypeRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, et: EventType) -> bool:
        """Add an entry; False when the account already has a type of that name."""
        values = {
            "id": et.id,
            "account_id": et.account_id,
            "name": et.name,
            "description": et.description,
            "schema": et.schema,
            "example": et.example,
            "version": et.version,
            "archived_at": et.archived_at,
            "created_at": et.created_at,
            "updated_at": et.updated_at,
        }
        try:
            async with self.db.write() as conn:
                taken = (
                    await conn.execute(
                        sa.select(event_types.c.id).where(
                            event_types.c.account_id == et.account_id,
                            event_types.c.name == et.name,
                        )
                    )
                ).first()
                if taken is not None:
                    return False
                await conn.execute(event_types.insert().values(**values))
        except sa.exc.IntegrityError:  # another process registered it meanwhile
            return False
        return True

    async def get(self, account_id: str, name: str) -> EventType | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(event_types).where(
                        event_types.c.account_id == account_id, event_types.c.name == name
                    )
                )
            ).first()
        return event_type_from_row(row) if row else None

    async def replace(self, et: EventType, *, expected_version: int) -> bool:
        """Write a changed entry unless someone changed it since it was read (False)."""
        async with self.db.write() as conn:
            done = await conn.execute(
                event_types.update()
                .where(
                    event_types.c.id == et.id,
                    event_types.c.account_id == et.account_id,
                    event_types.c.version == expected_version,
                )
                .values(
                    description=et.description,
                    schema=et.schema,
                    example=et.example,
                    version=et.version,
                    archived_at=et.archived_at,
                    updated_at=et.updated_at,
                )
            )
            return bool(done.rowcount)

    async def list_page(
        self,
        account_id: str,
        *,
        prefix: str | None,
        include_archived: bool,
        cursor: str | None,
        limit: int,
    ) -> Page[EventType]:
        stmt = sa.select(event_types).where(event_types.c.account_id == account_id)
        if prefix:
            # substr, not LIKE: exact and case-sensitive on both backends.
            stmt = stmt.where(sa.func.substr(event_types.c.name, 1, len(prefix)) == prefix)
        if not include_archived:
            stmt = stmt.where(event_types.c.archived_at.is_(None))
        async with self.db.read() as conn:
            return await fetch_page(
                conn,
                stmt,
                event_types.c.id,
                cursor=cursor,
                limit=limit,
                convert=event_type_from_row,
            )
