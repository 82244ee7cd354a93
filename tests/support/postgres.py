"""Throwaway PostgreSQL databases for tests.

``HOOKLINE_TEST_POSTGRES_URL`` names a database that only tests use (``.ci/run`` makes a
fresh one per run). Its name is the prefix of every database the tests create: one
migrated template per session, and a copy of it per test (``CREATE DATABASE … TEMPLATE``
takes tens of milliseconds), dropped when the test ends.

Also a small command line for ``.ci/run``::

    python -m tests.support.postgres create URL   # fails if the server is unreachable
    python -m tests.support.postgres drop URL     # drops it and every database it prefixes
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys

import asyncpg
from sqlalchemy.engine import make_url

ENV = "HOOKLINE_TEST_POSTGRES_URL"


def configured_url() -> str | None:
    return os.environ.get(ENV) or None


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def database_of(url: str) -> str:
    name = make_url(url).database
    if not name:
        raise ValueError(f"{ENV} must name a database")
    return name


async def _admin(url: str) -> asyncpg.Connection:
    # Any database but the ones being created or copied will do for CREATE/DROP.
    return await asyncpg.connect(with_database(url, "postgres"), timeout=5)


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected database name {name!r}")
    return f'"{name}"'


async def create_database(url: str, name: str, *, template: str = "template0") -> str:
    """Create database ``name`` on ``url``'s server as a copy of ``template``."""
    conn = await _admin(url)
    try:
        await conn.execute(f"CREATE DATABASE {_ident(name)} TEMPLATE {_ident(template)}")
    finally:
        await conn.close()
    return with_database(url, name)


async def drop_databases(url: str, *names: str) -> None:
    conn = await _admin(url)
    try:
        for name in names:
            # FORCE ends connections a killed test process may have left behind.
            await conn.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
    finally:
        await conn.close()


async def drop_with_prefix(url: str) -> None:
    base = database_of(url)
    conn = await _admin(url)
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2",
            base,
            base.replace("_", r"\_") + r"\_%",
        )
    finally:
        await conn.close()
    await drop_databases(url, *[r["datname"] for r in names])


def unique_name(base: str) -> str:
    return f"{base}_{secrets.token_hex(5)}"


async def terminate_connections(url: str) -> int:
    """End every server process connected to ``url``'s database; return how many."""
    conn = await _admin(url)
    try:
        ended = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            database_of(url),
        )
    finally:
        await conn.close()
    return int(ended)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("create", "drop"):
        print("usage: python -m tests.support.postgres create|drop URL", file=sys.stderr)
        return 2
    url = argv[2]
    try:
        if argv[1] == "create":
            asyncio.run(create_database(url, database_of(url)))
        else:
            asyncio.run(drop_with_prefix(url))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL for the tests is not usable at {url}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
