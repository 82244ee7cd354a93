"""Requests a test server has received, and waiting for them."""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class Arrivals(Generic[T]):
    """An append-only list of arrivals that tests can wait on."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.items: list[T] = []
        self._changed = asyncio.Condition()

    async def add(self, item: T) -> int:
        """Record one arrival; returns its 0-based number."""
        self.items.append(item)
        async with self._changed:
            self._changed.notify_all()
        return len(self.items) - 1

    async def wait_for(self, count: int, timeout: float) -> list[T]:
        """Wait until at least ``count`` arrived; fail the test if they do not."""

        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.items) >= count)

        try:
            await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"{self.what} got {len(self.items)} requests, expected {count}"
            ) from None
        return self.items
