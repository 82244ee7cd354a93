"""What every service is handed: a clock, an id factory, a way to wake workers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from hookline.domain.ids import new_id

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Notifier(Protocol):
    """Tells delivery workers that new work is due now."""

    def notify(self) -> None: ...

    def notify_calls(self) -> None:
        """Tell gateway runners in other processes that calls are queued (a runner in
        this process is told directly)."""
        ...


class NoNotifier:
    def notify(self) -> None:
        return None

    def notify_calls(self) -> None:
        return None


@dataclass(frozen=True)
class Context:
    clock: Clock = utc_now
    notifier: Notifier = field(default_factory=NoNotifier)

    def now(self) -> datetime:
        return self.clock()

    def new_id(self, prefix: str) -> str:
        return new_id(prefix, time.time_ns() // 1_000_000)
