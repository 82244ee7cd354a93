"""Schema migrations (Alembic), run programmatically on an async engine."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from hookline.store.database import Database, unavailable_as_store_error

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it keeps two processes from migrating the same database at once.
PG_LOCK_ID = 0x686F6F6B


def alembic_config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(db: Database) -> str | None:
    def read(conn: sa.Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    with unavailable_as_store_error():
        async with db.engine.connect() as conn:
            return await conn.run_sync(read)


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to call from many processes at once."""

    def run(conn: sa.Connection) -> None:
        command.upgrade(alembic_config(conn), revision)

    with unavailable_as_store_error():
        async with db.engine.begin() as conn:
            if not db.is_sqlite:
                await conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({PG_LOCK_ID})"))
            await conn.run_sync(run)
