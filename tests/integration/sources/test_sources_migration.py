"""Migration 0009 adds the source tables and its downgrade removes them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from hookline.store import migrate
from hookline.store.database import Database

SOURCE_TABLES = {"sources", "source_addresses", "source_blocks", "source_notifications"}


async def test_sources_migration_upgrades_and_downgrades(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await migrate.upgrade(db)
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        assert tables >= SOURCE_TABLES

        def down(conn: sa.Connection) -> set[str]:
            command.downgrade(migrate.alembic_config(conn), "0002")
            return set(sa.inspect(conn).get_table_names())

        async with db.engine.begin() as conn:
            tables = await conn.run_sync(down)
        assert not SOURCE_TABLES & tables
        assert "calls" in tables
    finally:
        await db.close()
