"""Migrations reproduce the declared schema exactly."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hookline.store import migrate
from hookline.store.database import Database
from hookline.store.tables import metadata


async def test_migrating_an_empty_database_gives_the_declared_schema(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}")
    try:
        await migrate.upgrade(db)

        def diff(conn: sa.Connection) -> list[object]:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, metadata))

        async with db.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
        assert await migrate.current_revision(db) == migrate.head_revision()
        await migrate.upgrade(db)  # a second run changes nothing and does not fail
    finally:
        await db.close()
