"""In-process wake-ups: publishing sets one, the worker waits on it instead of polling;
requests waiting on a call wait on a per-call one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator


class LocalWakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    def notify_calls(self) -> None:
        """As a :class:`~hookline.services.common.Notifier` (one process, SQLite): the
        runner here is told directly, and there is no other process to tell."""

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - a wake-up *is* a timed wait
        """Wait until notified or ``timeout`` passes; True when notified."""
        if not self._event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout)
        notified = self._event.is_set()
        self._event.clear()
        return notified


class CallWatch:
    """Per-call wake-ups for requests that wait on a call (``Prefer: wait``, long polls,
    event streams). A waiter holds an ``asyncio.Event`` and nothing else: no database
    connection, no runner slot. Whoever changes a call calls :meth:`changed`; on
    PostgreSQL ``remote`` forwards it to other processes (``NOTIFY`` with the call id),
    whose listeners call :meth:`wake`. A missed wake-up only delays a waiter until its
    next re-read, so this is a hint, never the source of truth."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self.remote: Callable[[str], None] | None = None

    def changed(self, call_id: str) -> None:
        self.wake(call_id)
        if self.remote is not None:
            self.remote(call_id)

    def wake(self, call_id: str) -> None:
        for event in self._waiters.get(call_id, ()):
            event.set()

    def wake_all(self) -> None:
        """After a lost listening connection: every waiter re-reads its call."""
        for events in self._waiters.values():
            for event in events:
                event.set()

    @property
    def waiting(self) -> int:
        return sum(len(e) for e in self._waiters.values())

    @contextlib.contextmanager
    def watching(self, call_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever ``call_id`` changes. Clear it *before* reading the call,
        then wait on it: a change between the read and the wait is not lost."""
        event = asyncio.Event()
        self._waiters.setdefault(call_id, set()).add(event)
        try:
            yield event
        finally:
            events = self._waiters.get(call_id)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._waiters[call_id]
