"""`hookline migrate` on an empty database gives exactly the declared schema."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hookline.config import Settings
from hookline.store import migrate
from hookline.store.tables import metadata
from hookline.system import open_database
from tests.support import postgres


@pytest.fixture
async def empty_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    base = postgres.configured_url()
    assert base is not None
    name = postgres.unique_name(postgres.database_of(base))
    yield await postgres.create_database(base, name)
    await postgres.drop_databases(base, name)


def _migrate(url: str, tmp_path: Path) -> str:
    env = {**os.environ, "HOOKLINE_DATABASE_URL": url, "HOOKLINE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "hookline", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_migrating_an_empty_database_gives_the_declared_schema(
    empty_database_url: str, tmp_path: Path
) -> None:
    head = migrate.head_revision()
    assert f"from empty to {head}" in _migrate(empty_database_url, tmp_path)
    assert f"up to date (revision {head})" in _migrate(empty_database_url, tmp_path)

    db = open_database(Settings(database_url=empty_database_url, data_dir=tmp_path))

    def differences(conn: sa.Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(differences) == []
            assert await migrate.current_revision(db) == head
    finally:
        await db.close()
