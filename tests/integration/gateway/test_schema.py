"""The migrations (0001 + 0002_gateway) build exactly the declared schema."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hookline.store import migrate
from hookline.store.database import Database
from hookline.store.tables import metadata


async def test_migrated_schema_equals_declared(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await migrate.upgrade(db)

        def diff(conn: sa.Connection) -> list[object]:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, metadata))

        async with db.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
            tables = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        assert {"apis", "calls", "wallets", "ledger_entries", "call_events"} <= tables
        assert await migrate.current_revision(db) == migrate.head_revision()
    finally:
        await db.close()


async def test_gateway_migration_downgrades_cleanly(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        # Up to the gateway's own revision: later ones (sealed secrets) refuse to go back.
        await migrate.upgrade(db, "0002")

        def down(conn: sa.Connection) -> set[str]:
            from alembic import command

            command.downgrade(migrate.alembic_config(conn), "0001")
            return set(sa.inspect(conn).get_table_names())

        async with db.engine.begin() as conn:
            tables = await conn.run_sync(down)
        assert "calls" not in tables
        assert "accounts" in tables
    finally:
        await db.close()
