"""Retry policies and the pure calculation of when to try again.

Two shapes, both stored as plain JSON on the webhook:

* fixed schedule ``{"schedule": [1, 4, 16]}``: the delays (seconds) after the first,
  second, third failure; attempts = len(schedule) + 1.
* exponential ``{"min_delay": 30, "max_delay": 600, "max_attempts": 5, "max_age": 604800}``:
  the delay doubles from ``min_delay`` up to ``max_delay``, with jitter.

Either may carry ``max_age`` (seconds since the event was created): no attempt is
scheduled past it. ``Retry-After`` from the receiver can only lengthen a delay, and is
clamped to ``retry_after_max``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

DEFAULT_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_SCHEDULE_LENGTH = 50
MAX_DELAY = 7 * 24 * 3600.0


class InvalidRetryPolicy(ValueError):
    """A retry policy document that cannot be used."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    schedule: tuple[float, ...] | None = None
    min_delay: float = 30.0
    max_delay: float = 600.0
    max_attempts: int = 5
    max_age: float | None = None

    @property
    def attempts_allowed(self) -> int:
        if self.schedule is not None:
            return len(self.schedule) + 1
        return self.max_attempts

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any]
        if self.schedule is not None:
            doc = {"schedule": list(self.schedule)}
        else:
            doc = {
                "min_delay": self.min_delay,
                "max_delay": self.max_delay,
                "max_attempts": self.max_attempts,
            }
        if self.max_age is not None:
            doc["max_age"] = self.max_age
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> RetryPolicy:
        """Validate and build a policy; raises :class:`InvalidRetryPolicy`."""
        if not isinstance(doc, dict):
            raise InvalidRetryPolicy("retry_policy must be an object")
        max_age = _optional_seconds(doc, "max_age")
        if "schedule" in doc:
            extra = set(doc) - {"schedule", "max_age"}
            if extra:
                raise InvalidRetryPolicy(
                    f"a schedule policy takes only schedule and max_age, not {sorted(extra)}"
                )
            raw = doc["schedule"]
            if not isinstance(raw, list) or len(raw) > MAX_SCHEDULE_LENGTH:
                raise InvalidRetryPolicy(
                    f"schedule must be a list of at most {MAX_SCHEDULE_LENGTH} delays"
                )
            delays = tuple(_seconds(v, "schedule") for v in raw)
            return cls(schedule=delays, max_age=max_age)
        extra = set(doc) - {"min_delay", "max_delay", "max_attempts", "max_age"}
        if extra:
            raise InvalidRetryPolicy(f"unknown retry_policy fields {sorted(extra)}")
        min_delay = _seconds(doc.get("min_delay", 30), "min_delay")
        max_delay = _seconds(doc.get("max_delay", 600), "max_delay")
        attempts = doc.get("max_attempts", 5)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 100:
            raise InvalidRetryPolicy("max_attempts must be an integer from 1 to 100")
        if max_delay < min_delay:
            raise InvalidRetryPolicy("max_delay must not be less than min_delay")
        return cls(min_delay=min_delay, max_delay=max_delay, max_attempts=attempts, max_age=max_age)


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRetryPolicy(f"{name} must be numbers of seconds")
    if not 0 <= value <= MAX_DELAY:
        raise InvalidRetryPolicy(f"{name} must be between 0 and {int(MAX_DELAY)} seconds")
    return float(value)


def _optional_seconds(doc: dict[str, Any], name: str) -> float | None:
    if doc.get(name) is None:
        return None
    value = doc[name]
    # "not 0 < value < inf" also refuses NaN, which every comparison fails.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise InvalidRetryPolicy(f"{name} must be a positive number of seconds")
    return float(value)


def next_delay(
    policy: RetryPolicy,
    failures: int,
    *,
    jitter: float,
    retry_after: float | None = None,
    retry_after_max: float = 3600.0,
) -> float:
    """Seconds to wait after the ``failures``-th failed attempt (1-based).

    ``jitter`` is a number in [0, 1) supplied by the caller (the domain owns no random
    source). Exponential delays land in [base/2, base] with base = min(max_delay,
    min_delay * 2**(failures-1)), never below min_delay. A receiver's ``Retry-After``
    lengthens the delay up to ``retry_after_max``; it never shortens it.
    """
    if failures < 1:
        raise ValueError("failures counts from 1")
    if policy.schedule is not None:
        delay = policy.schedule[min(failures, len(policy.schedule)) - 1] if policy.schedule else 0.0
    else:
        base = min(policy.max_delay, policy.min_delay * 2.0 ** min(failures - 1, 60))
        delay = max(policy.min_delay, base / 2 + (base / 2) * jitter)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, retry_after_max))
    return delay


def should_retry(policy: RetryPolicy, attempts_made: int, age_at_next: float) -> bool:
    """Whether another attempt is allowed after ``attempts_made`` attempts, if it would
    happen ``age_at_next`` seconds after the event was created."""
    if attempts_made >= policy.attempts_allowed:
        return False
    return policy.max_age is None or age_at_next <= policy.max_age


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    # str.isdigit() alone admits "²" or "٣", which float() may refuse: HTTP means ASCII.
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now_epoch)
