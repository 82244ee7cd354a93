"""SQLite through aiosqlite with one trip to its thread per statement.

aiosqlite runs every call on the connection's own thread and SQLAlchemy's adapter makes
four such calls for one statement: open a cursor, execute, fetch the rows, close the
cursor. Each call is a queue put, a wake-up of that thread, a hand-back to the event
loop and a wake-up of the loop, and a publish and its delivery run about a dozen
statements. Here the four are one: the statement runs, its rows are read and its cursor
closed in a single call on that thread, and the rows wait in the adapter's own buffer as
they always did. Everything else (the connection, its thread, transactions, errors) is
aiosqlite's and SQLAlchemy's as before; only the cursor changes.

Used with ``create_async_engine(url, module=dbapi())`` for ``sqlite+aiosqlite`` URLs.
It relies on ``aiosqlite.Connection._execute`` (run a function on the connection's
thread) and on SQLAlchemy's aiosqlite adapter classes; both are pinned by the lock files
and every SQLite test goes through this module.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

_Description = tuple[tuple[Any, ...], ...] | None


class _Done:
    """What a finished statement left: the cursor attributes SQLAlchemy reads."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self) -> None:
        self.description: _Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def close(self) -> None:
        """The sqlite3 cursor was closed on the connection's thread already."""


def _run(
    conn: sqlite3.Connection, operation: str, parameters: Any
) -> tuple[_Description, list[Any], int, int | None]:
    cursor = conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(
    conn: sqlite3.Connection, operation: str, seq_of_parameters: Sequence[Any]
) -> tuple[int, int | None]:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq_of_parameters)
        return cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    # Closing is done where the statement ran: nothing to await here.
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Done()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        aio: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        done: _Done = self._cursor  # type: ignore[assignment]
        on_thread: Any = aio._execute  # aiosqlite leaves it untyped
        async with self._adapt_connection._execute_mutex:
            description, rows, rowcount, lastrowid = await on_thread(
                lambda: _run(aio._conn, operation, parameters)
            )
        done.description, done.rowcount, done.lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows)
        return done

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        aio: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        done: _Done = self._cursor  # type: ignore[assignment]
        on_thread: Any = aio._execute
        async with self._adapt_connection._execute_mutex:
            rowcount, lastrowid = await on_thread(
                lambda: _run_many(aio._conn, operation, seq_of_parameters)
            )
        done.description, done.rowcount, done.lastrowid = None, rowcount, lastrowid
        return done


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
