"""SQLite through aiosqlite with one trip to its thread per statement.

aiosqlite runs every call on the connection's own thread and SQLAlchemy's adapter makes
four such calls for one statement: open a cursor, execute, fetch the rows, close the
cursor. Each call is a queue put, a wake-up of that thread, a hand-back to the event
loop and a wake-up of the loop, and a publish and its delivery run about a dozen
statements. Here the four are one: the statement runs, its rows are read and its cursor
closed in a single call on that thread, and the rows wait in the adapter's own buffer as
they always did. A transaction's ``BEGIN`` travels with its first statement, and a
rollback with no transaction open (the pool's reset of a connection it takes back after
a commit) makes no trip at all: a transaction of n statements is n + 1 trips, its
commit included, instead of n + 3. Everything else (the connection, its thread,
transactions, errors) is aiosqlite's and SQLAlchemy's as before.

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


# The statements Database's "begin" listener opens transactions with.
_BEGINS = frozenset({"BEGIN", "BEGIN IMMEDIATE", "BEGIN DEFERRED", "BEGIN EXCLUSIVE"})


def _begin(conn: sqlite3.Connection, begin: str | None) -> None:
    if begin is not None:
        conn.execute(begin).close()


def _run(
    conn: sqlite3.Connection, operation: str, parameters: Any, begin: str | None = None
) -> tuple[_Description, list[Any], int, int | None]:
    _begin(conn, begin)
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
    conn: sqlite3.Connection, operation: str, seq_of_parameters: Sequence[Any], begin: str | None
) -> tuple[int, int | None]:
    _begin(conn, begin)
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
        adapted: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        if operation in _BEGINS and not parameters:
            # Sent with the transaction's first statement (see OneTripConnection).
            adapted._begin = operation
            done.description, done.rowcount, done.lastrowid = None, -1, None
            self._rows = collections.deque()
            return done
        on_thread: Any = aio._execute  # aiosqlite leaves it untyped
        async with adapted._execute_mutex:
            begin, adapted._begin = adapted._begin, None
            description, rows, rowcount, lastrowid = await on_thread(
                lambda: _run(aio._conn, operation, parameters, begin)
            )
        done.description, done.rowcount, done.lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows)
        return done

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        aio: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        done: _Done = self._cursor  # type: ignore[assignment]
        adapted: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        on_thread: Any = aio._execute
        async with adapted._execute_mutex:
            begin, adapted._begin = adapted._begin, None
            rowcount, lastrowid = await on_thread(
                lambda: _run_many(aio._conn, operation, seq_of_parameters, begin)
            )
        done.description, done.rowcount, done.lastrowid = None, rowcount, lastrowid
        return done


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """A transaction's ``BEGIN`` waits for its first statement and goes to the thread
    with it, run just before it in the same call; a transaction that ran no statement
    makes no trip to begin or to end. ``BEGIN IMMEDIATE`` still takes the write lock
    before the transaction's first statement runs, and nothing ran in between."""

    __slots__ = ("_begin",)
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._begin: str | None = None

    def commit(self) -> None:
        if self._begin is not None:
            self._begin = None  # no statement ran: nothing began, nothing to commit
            return
        super().commit()

    def rollback(self) -> None:
        # The pool also rolls back every connection it takes back, nearly always right
        # after a commit. With no transaction open there is nothing to roll back, and
        # the trip to the connection's thread would cost as much as a statement.
        # (sqlite3 reads the flag off the connection; nothing runs on it at checkin.)
        self._begin = None
        aio: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        if aio._connection is not None and not aio.in_transaction:
            return
        super().rollback()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
