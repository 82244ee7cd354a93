"""The engine, transactions, and the one place driver errors become Hookline errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hookline.errors import StoreUnavailable
from hookline.store import sqlite_driver
from hookline.store.sealing import Sealer

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    ConnectionError,
    OSError,
)


APPLICATION_NAME = "hookline"


class Database:
    """One engine and the transaction discipline of its backend.

    ``write()`` opens a transaction that will write. On SQLite it begins IMMEDIATE (so
    two writers never deadlock upgrading a read lock) and writers in this process queue
    on an asyncio lock instead of spinning in SQLite's busy handler. ``read()`` opens a
    plain transaction. Both translate connection-level driver failures into
    :class:`StoreUnavailable`, keeping the driver error as ``__cause__``.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        connect_timeout: float = 5.0,
        command_timeout: float = 30.0,
        echo: bool = False,
        sealer: Sealer | None = None,
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.connect_timeout = connect_timeout
        # Statement parameters carry secrets and payloads: never in logs or error texts.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        _quiet_value_logs()
        if self.is_sqlite:
            _ensure_parent(url)
            if url.startswith("sqlite+aiosqlite"):
                # One trip to the connection's thread per statement (sqlite_driver.py).
                kwargs["module"] = sqlite_driver.dbapi()
        else:
            kwargs |= {
                "pool_size": pool_size,
                "max_overflow": max_overflow,
                "pool_timeout": connect_timeout,
                # Bounded waits everywhere, so an unreachable or stuck database turns
                # into StoreUnavailable (a 503) rather than a hanging request.
                "connect_args": {
                    "timeout": connect_timeout,
                    "command_timeout": command_timeout,
                    "server_settings": {"application_name": APPLICATION_NAME},
                },
            }
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        # Sealed columns (store/tables.py: SealedText) find the sealer on the dialect.
        self.sealer = sealer
        self.engine.sync_engine.dialect.hookline_sealer = sealer  # type: ignore[attr-defined]
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        else:
            _ping_at_checkout(self.engine)

    @property
    def libpq_url(self) -> str:
        """The URL without SQLAlchemy's driver suffix, for direct driver connections."""
        plain = self.engine.url.set(drivername=self.engine.url.get_backend_name())
        return plain.render_as_string(hide_password=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        if self._write_lock is None:
            async with self._transaction(write=True) as conn:
                yield conn
            return
        async with self._write_lock, self._transaction(write=True) as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._transaction(write=False) as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def _transaction(self, *, write: bool) -> AsyncIterator[AsyncConnection]:
        with unavailable_as_store_error():
            async with self.engine.connect() as conn:
                if write and self.is_sqlite:
                    await conn.execution_options(hookline_begin="BEGIN IMMEDIATE")
                async with conn.begin():
                    yield conn

    async def ping(self) -> None:
        async with self.read() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


def _ping_at_checkout(engine: AsyncEngine) -> None:
    """A connection the server dropped while idle is replaced at checkout instead of
    failing the transaction that drew it.

    SQLAlchemy's ``pool_pre_ping`` does the same in three round trips on asyncpg
    (``BEGIN``, an empty query, ``ROLLBACK``) before every transaction. Here it is one:
    ``SELECT 1`` in the simple protocol, which needs no transaction and no prepared
    statement (so a pooler in transaction mode takes it too). When it fails, the pool
    discards the connection and draws another (``DisconnectionError``), as pre-ping
    would.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        try:
            dbapi_connection.run_async(lambda driver: driver.execute("SELECT 1"))
        except Exception as error:
            raise exc.DisconnectionError("the connection did not answer a ping") from error


@contextlib.contextmanager
def unavailable_as_store_error() -> Iterator[None]:
    """Turn connection-level driver failures into :class:`StoreUnavailable`."""
    try:
        yield
    except exc.DBAPIError as error:
        if error.connection_invalidated or isinstance(error, _UNAVAILABLE):
            raise StoreUnavailable() from error
        raise
    except _UNAVAILABLE as error:
        raise StoreUnavailable() from error


def _ensure_parent(url: str) -> None:
    """The database file's directory (0700 when created here) and the file itself, with
    its WAL and shared-memory files, readable by this user alone (SQLite gives the
    files it creates the main file's mode)."""
    path = url.split(":///", 1)[1].split("?", 1)[0] if ":///" in url else ""
    if not path or path == ":memory:":
        return
    file = Path(path)
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(file, os.O_RDWR | os.O_CREAT, 0o600))
    for each in (file, file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if each.stat().st_mode & 0o077:
                each.chmod(0o600)


class _NoRowValues(logging.Filter):
    """Drops the debug records that carry values read or written: SQLAlchemy's result
    rows (``Row (...)``, opened secrets included) and aiosqlite's record of each call
    with its arguments (statement parameters). Statements themselves still log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


# Filters act only on the logger a record is made on, so each is named exactly.
_VALUE_LOGGERS = ("sqlalchemy.engine.Engine", "aiosqlite")


def _quiet_value_logs() -> None:
    for name in _VALUE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoRowValues) for f in logger.filters):
            logger.addFilter(_NoRowValues())


def _configure_sqlite(engine: AsyncEngine) -> None:

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            # FULL: a commit is on disk before the API answers 202, even across power loss.
            "PRAGMA synchronous=FULL",
            "PRAGMA busy_timeout=30000",
            "PRAGMA foreign_keys=ON",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("hookline_begin", "BEGIN"))
