"""Filters over an account's deliveries: searches, bulk retries and recovery share them.

Time bounds apply to when a delivery was created. Delivery ids begin with their creation
time (:mod:`hookline.domain.ids`), so a time window is an id range and every filter runs
on an index that ends in ``id``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hookline.domain.ids import lowest_id
from hookline.domain.models import DeliveryStatus

# What bulk retry may send again: anything finished (and what was held).
RETRYABLE = (
    DeliveryStatus.FAILED,
    DeliveryStatus.HELD,
    DeliveryStatus.SUCCEEDED,
    DeliveryStatus.CANCELLED,
)
RECOVERABLE = (DeliveryStatus.FAILED, DeliveryStatus.HELD)


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    statuses: tuple[DeliveryStatus, ...] = ()
    webhook_id: str | None = None
    event_type: str | None = None
    event_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Only the deliveries to webhooks of this application (the portal's scope).
    app_id: str | None = None

    @property
    def min_id(self) -> str | None:
        """Ids at or above this were made at or after ``since``."""
        return lowest_id("dlv", time_ms(self.since)) if self.since else None

    @property
    def below_id(self) -> str | None:
        """Ids below this were made before ``until``."""
        return lowest_id("dlv", time_ms(self.until)) if self.until else None

    def to_document(self) -> dict[str, Any]:
        return {
            "statuses": [s.value for s in self.statuses],
            "webhook_id": self.webhook_id,
            "event_type": self.event_type,
            "event_id": self.event_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "app_id": self.app_id,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> DeliveryFilter:
        return cls(
            statuses=tuple(DeliveryStatus(s) for s in doc.get("statuses") or ()),
            webhook_id=doc.get("webhook_id"),
            event_type=doc.get("event_type"),
            event_id=doc.get("event_id"),
            since=datetime.fromisoformat(doc["since"]) if doc.get("since") else None,
            until=datetime.fromisoformat(doc["until"]) if doc.get("until") else None,
            app_id=doc.get("app_id"),
        )


@dataclass(frozen=True, slots=True)
class RequeueJob:
    id: str
    account_id: str
    filter: DeliveryFilter
    expected: int
    queued: int
    last_id: str | None
    status: str
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class WebhookStats:
    counts: dict[str, int]
    attempts: int
    p50_ms: int | None
    p95_ms: int | None


def time_ms(at: datetime) -> int:
    return int(at.astimezone(UTC).timestamp() * 1000)


def percentile(sorted_count: int, fraction: float) -> int:
    """The 0-based rank of the ``fraction`` percentile among ``sorted_count`` values
    (nearest rank)."""
    if sorted_count <= 0:
        raise ValueError("no values")
    rank = math.ceil(fraction * sorted_count) - 1
    return min(max(rank, 0), sorted_count - 1)
