"""Fixtures of the gateway tests: a real upstream, and accounts that close their clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.support.gateway import Party, party
from tests.support.server import Running

MakeParty = Callable[..., Awaitable[Party]]


@pytest.fixture
async def make_party() -> AsyncIterator[Callable[..., Awaitable[Party]]]:
    """``await make_party(hookline, name, credit=…)``: an account (funded if asked)."""
    made: list[Party] = []

    async def make(hookline: Running, name: str, *, credit: int = 0) -> Party:
        p = await party(hookline, name, credit=credit)
        made.append(p)
        return p

    yield make
    for p in made:
        await p.client.aclose()
