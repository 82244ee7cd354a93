"""In-process wake-ups: publishing sets it, the worker waits on it instead of polling."""

from __future__ import annotations

import asyncio
import contextlib


class LocalWakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - a wake-up *is* a timed wait
        """Wait until notified or ``timeout`` passes; True when notified."""
        if not self._event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout)
        notified = self._event.is_set()
        self._event.clear()
        return notified
