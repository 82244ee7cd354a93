"""SQLite statements cross to aiosqlite's thread once each (store/sqlite_driver.py), on a
real database file, with rows, counts and errors as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import sqlalchemy as sa

from hookline.store.database import Database


async def test_a_statement_is_one_trip_and_reads_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    trips: list[object] = []
    run = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(fn)
        return await run(self, fn, *args, **kwargs)

    try:
        async with db.write() as conn:
            await conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        async with db.write() as conn:
            trips.clear()
            inserted = await conn.execute(
                sa.text("INSERT INTO t (name) VALUES (:name)"), [{"name": "a"}, {"name": "b"}]
            )
            assert inserted.rowcount == 2
            one = await conn.execute(sa.text("INSERT INTO t (name) VALUES ('c')"))
            assert one.lastrowid == 3
            rows = (await conn.execute(sa.text("SELECT id, name FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]
            # Three statements, three trips (SQLAlchemy's adapter alone made up to 4 each).
            assert len(trips) == 3
            updated = await conn.execute(
                sa.text("UPDATE t SET name = 'x' WHERE id > 1 RETURNING id")
            )
            assert sorted(r[0] for r in updated) == [2, 3]
        async with db.read() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM t"))).scalar_one() == 3
            with pytest.raises(sa.exc.OperationalError):
                await conn.execute(sa.text("SELECT * FROM missing"))
    finally:
        await db.close()
