"""Delivery control, purely: the per-webhook rate limit, a receiver asking to slow down,
and the circuit breaker's view of recent attempts. Times are handed in.

The rate limit is a generic cell rate algorithm (a token bucket kept as one timestamp):
``send_after`` is the earliest time the next send may start. A webhook limited to ``r``
deliveries per second sends at most ``burst(r) = ceil(r)`` at once after a quiet spell
(one second's worth), then one every ``1/r`` seconds; in any window of ``w`` seconds at
most ``burst(r) + r * w`` deliveries start.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# Pause after a 429 that names no Retry-After: long enough to matter to a receiver that
# is shedding load, short next to any retry schedule.
THROTTLE_PAUSE = 5.0
# The lowest and highest rate limits accepted (deliveries per second).
MIN_RATE = 0.01
MAX_RATE = 10000.0


def burst(rate: float) -> int:
    """How many deliveries may start at once after a quiet spell."""
    return max(1, math.ceil(rate))


def _tolerance(rate: float) -> float:
    return (burst(rate) - 1) / rate


def allowance(rate: float, send_after: datetime | None, now: datetime) -> int:
    """How many deliveries the limit lets start now."""
    if send_after is None:
        return burst(rate)
    if send_after > now:
        return 0
    interval = 1 / rate
    tat = max(send_after + timedelta(seconds=_tolerance(rate)), now)
    room = (now - tat).total_seconds() + _tolerance(rate)
    return min(burst(rate), math.floor(room / interval + 1e-9) + 1)


def after_sending(rate: float, send_after: datetime | None, now: datetime, sent: int) -> datetime:
    """The new ``send_after`` once ``sent`` deliveries started now."""
    tolerance = timedelta(seconds=_tolerance(rate))
    tat = now if send_after is None else max(send_after + tolerance, now)
    return tat + timedelta(seconds=sent / rate) - tolerance


def slow_down(status_code: int | None, retry_after: float | None, *, most: float) -> float | None:
    """Seconds a webhook pauses because its receiver asked: a 429 (for ``Retry-After``,
    else :data:`THROTTLE_PAUSE`) or a 503 with ``Retry-After``; None otherwise."""
    if status_code == 429:
        pause = retry_after if retry_after is not None else THROTTLE_PAUSE
    elif status_code == 503 and retry_after is not None:
        pause = retry_after
    else:
        return None
    return max(0.0, min(pause, most))


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """When a webhook's circuit opens: at least ``min_attempts`` attempts in the last
    ``window`` seconds, and at least ``failure_ratio`` of them failed. It stays open for
    ``cooldown`` seconds, then one probe decides. ``min_attempts == 0`` turns it off."""

    failure_ratio: float = 0.8
    min_attempts: int = 20
    window: float = 60.0
    cooldown: float = 30.0

    @property
    def enabled(self) -> bool:
        return self.min_attempts > 0


@dataclass(slots=True)
class _Counts:
    # (second, attempts, failures), oldest first: one entry per second with attempts.
    buckets: deque[list[int]] = field(default_factory=deque)
    attempts: int = 0
    failures: int = 0


class FailureWindow:
    """Recent attempts per webhook, counted per second over the breaker's window, as one
    process sees them (each worker judges from its own share of the attempts)."""

    def __init__(self, settings: BreakerSettings) -> None:
        self.settings = settings
        self._counts: dict[str, _Counts] = {}

    def add(self, webhook_id: str, at: float, failed: bool) -> bool:
        """Count one attempt (``at``: monotonic seconds); True when the webhook's recent
        attempts now call for opening its circuit."""
        s = self.settings
        if not s.enabled:
            return False
        c = self._counts.get(webhook_id)
        if c is None:
            if not failed:
                return False  # nothing failed lately: nothing to judge
            c = self._counts[webhook_id] = _Counts()
        second = int(at)
        oldest = second - int(s.window)
        while c.buckets and c.buckets[0][0] <= oldest:
            _, a, f = c.buckets.popleft()
            c.attempts -= a
            c.failures -= f
        if c.buckets and c.buckets[-1][0] == second:
            bucket = c.buckets[-1]
        else:
            bucket = [second, 0, 0]
            c.buckets.append(bucket)
        bucket[1] += 1
        c.attempts += 1
        if failed:
            bucket[2] += 1
            c.failures += 1
        if c.failures == 0:
            del self._counts[webhook_id]
            return False
        return c.attempts >= s.min_attempts and c.failures >= s.failure_ratio * c.attempts

    def forget(self, webhook_id: str) -> None:
        """Start counting afresh (the circuit opened or closed)."""
        self._counts.pop(webhook_id, None)
