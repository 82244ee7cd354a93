"""Retention: how long finished work is kept, and what counts as finished.

Pure: durations are parsed here, and the cut-off is computed from a time handed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from hookline.domain.models import DeliveryStatus

# Deliveries that will never be sent again by themselves. ``held`` ones are included:
# they wait for a recover that, past the retention window, nobody can still want
# (a recover only looks back that far), and keeping them would keep their events.
FINISHED: tuple[DeliveryStatus, ...] = (
    DeliveryStatus.SUCCEEDED,
    DeliveryStatus.FAILED,
    DeliveryStatus.CANCELLED,
    DeliveryStatus.HELD,
)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


class InvalidDuration(ValueError):
    """Not a duration such as 30d, 12h, 90m or 45s."""


def parse_duration(text: str) -> float:
    """Seconds in ``text``: a number and one unit (s, m, h, d, w), e.g. ``30d``.

    A bare number is read as seconds, so values written as numbers keep working.
    """
    try:
        value = float(text)
    except ValueError:
        match = _DURATION.match(text)
        if match is None:
            raise InvalidDuration(
                f"{text!r} is not a duration: a number and a unit, "
                "one of s, m, h, d, w (e.g. 30d, 12h, 90m)"
            ) from None
        value = float(match.group(1)) * _UNITS[match.group(2)]
    if not value > 0 or value != value or value == float("inf"):
        raise InvalidDuration(f"{text!r}: a duration must be more than zero")
    return value


def cutoff(now: datetime, retention_seconds: float) -> datetime:
    """Finished work older than this goes."""
    return now - timedelta(seconds=retention_seconds)


@dataclass(slots=True)
class PurgeCounts:
    """Rows removed (or, in a dry run, that would be) per table."""

    deliveries: int = 0
    attempts: int = 0
    request_bodies: int = 0
    messages: int = 0
    idempotency_keys: int = 0

    def add(self, other: PurgeCounts) -> None:
        self.deliveries += other.deliveries
        self.attempts += other.attempts
        self.request_bodies += other.request_bodies
        self.messages += other.messages
        self.idempotency_keys += other.idempotency_keys

    def as_dict(self) -> dict[str, int]:
        return {
            "deliveries": self.deliveries,
            "attempts": self.attempts,
            "request_bodies": self.request_bodies,
            "messages": self.messages,
            "idempotency_keys": self.idempotency_keys,
        }

    @property
    def total(self) -> int:
        return sum(self.as_dict().values())
