"""How big each measurement is: the full run, and the quick smoke run CI uses."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Scale:
    name: str
    ceiling_seconds: float
    ceiling_connections: int
    events: int  # per saturation run, one webhook
    publish_concurrency: int
    latency_fractions: tuple[float, ...]
    latency_seconds: float
    peer_events: int
    fanout_endpoints: int
    backlog_endpoints: int
    backlog_events: int
    drain_seconds: float
    failure_endpoints: int
    failure_seconds: float
    failure_load: float  # offered deliveries as a fraction of the SQLite maximum
    payload_rounds: int  # measured rounds per span of the 512 KiB event
    install_wrk: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = Scale(
    name="full",
    ceiling_seconds=10,
    ceiling_connections=64,
    events=20_000,
    publish_concurrency=32,
    latency_fractions=(0.25, 0.5, 0.9),
    latency_seconds=10,
    peer_events=10_000,
    fanout_endpoints=1_000,
    backlog_endpoints=1_000,
    backlog_events=1_000,
    drain_seconds=90,
    failure_endpoints=100,
    failure_seconds=20,
    failure_load=0.5,
    payload_rounds=5,
    install_wrk=True,
)

QUICK = Scale(
    name="quick",
    ceiling_seconds=1,
    ceiling_connections=16,
    events=200,
    publish_concurrency=8,
    latency_fractions=(0.25, 0.5, 0.9),
    latency_seconds=1,
    peer_events=100,
    fanout_endpoints=20,
    backlog_endpoints=20,
    backlog_events=20,
    drain_seconds=10,
    failure_endpoints=20,
    failure_seconds=2,
    failure_load=0.5,
    payload_rounds=1,
    install_wrk=False,
)
