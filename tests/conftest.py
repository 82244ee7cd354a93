from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.receiver import Receiver, Script
from tests.support.server import Running, make_settings, start


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
async def make_hookline(
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Awaitable[Running]]]:
    """Start Hookline (API + worker) on a fresh SQLite file; settings may be overridden."""
    running: list[Running] = []

    async def make(*, worker: bool = True, **overrides: Any) -> Running:
        r = await start(make_settings(tmp_path, **overrides), worker=worker)
        running.append(r)
        return r

    yield make
    for r in reversed(running):
        await r.stop()


@pytest.fixture
async def hookline(make_hookline: Callable[..., Awaitable[Running]]) -> Running:
    return await make_hookline()
