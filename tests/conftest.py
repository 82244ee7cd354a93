from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from hookline.config import Settings
from hookline.store import migrate
from hookline.system import open_database
from tests.support import postgres
from tests.support.processes import Cluster
from tests.support.receiver import Receiver, Script
from tests.support.server import Running, make_settings, start
from tests.support.upstream import Upstream

# Every test that runs Hookline runs once per backend; PostgreSQL joins when configured.
BACKENDS = ["sqlite", *(["postgres"] if postgres.configured_url() else [])]

# A suite started in the background of a non-interactive shell inherits SIGINT ignored,
# and so would every CLI process it starts: the tests of Ctrl-C would then test nothing
# but the ignoring. The processes the tests start get SIGINT as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _run_apart(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion on its own loop, away from the tests' loops."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated database that each PostgreSQL test gets a fresh copy of."""
    url = postgres.configured_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests need {postgres.ENV}")
    # One template per test process: pytest-xdist runs several sessions side by side.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = postgres.database_of(url) + "_tpl" + (f"_{worker}" if worker else "")

    async def create() -> None:
        await postgres.drop_databases(url, name)
        created = await postgres.create_database(url, name)
        db = open_database(Settings(database_url=created, db_pool_size=1))
        try:
            await migrate.upgrade(db)
        finally:
            await db.close()

    _run_apart(create())
    yield name
    _run_apart(postgres.drop_databases(url, name))


@pytest.fixture
async def postgres_url(postgres_template: str) -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database for this test alone (skips if none is set up)."""
    base = postgres.configured_url()
    assert base is not None
    name = postgres.unique_name(postgres.database_of(base))
    yield await postgres.create_database(base, name, template=postgres_template)
    await postgres.drop_databases(base, name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database of the test's backend that no other test uses."""
    if backend == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'hookline.db'}"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.stop()


@pytest.fixture
async def make_receiver() -> AsyncIterator[Callable[[Script | None], Awaitable[Receiver]]]:
    started: list[Receiver] = []

    async def make(script: Script | None = None) -> Receiver:
        r = await Receiver(script).start()
        started.append(r)
        return r

    yield make
    for r in started:
        await r.stop()


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    """An upstream that answers 200 {"answer": 42} at once."""
    u = await Upstream().start()
    yield u
    await u.stop()


@pytest.fixture
async def make_hookline(
    tmp_path: Path, database_url: str
) -> AsyncIterator[Callable[..., Awaitable[Running]]]:
    """Start Hookline (API + worker) on a fresh database of each backend; settings may be
    overridden."""
    running: list[Running] = []

    async def make(*, worker: bool = True, **overrides: Any) -> Running:
        overrides.setdefault("database_url", database_url)
        r = await start(make_settings(tmp_path, **overrides), worker=worker)
        running.append(r)
        return r

    yield make
    for r in reversed(running):
        await r.stop()


@pytest.fixture
async def hookline(make_hookline: Callable[..., Awaitable[Running]]) -> Running:
    return await make_hookline()


@pytest.fixture
async def cluster(postgres_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """Hookline CLI processes on a fresh PostgreSQL database, stopped after the test."""
    c = Cluster(postgres_url, tmp_path)
    yield c
    await c.stop()
