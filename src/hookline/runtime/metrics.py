"""Prometheus metrics, one registry per running system (never module-level globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_published = Counter(
            "hookline_events_published", "Events accepted by the API", registry=self.registry
        )
        self.deliveries_created = Counter(
            "hookline_deliveries_created", "Deliveries created by fan-out", registry=self.registry
        )
        self.attempts = Counter(
            "hookline_attempts",
            "Delivery attempts by outcome (success, failure) and error class",
            ["outcome", "error"],
            registry=self.registry,
        )
        self.attempt_seconds = Histogram(
            "hookline_attempt_duration_seconds",
            "Time from sending a webhook to its response",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "hookline_deliveries_in_flight", "Deliveries being sent now", registry=self.registry
        )
        self.claimed = Counter(
            "hookline_deliveries_claimed",
            "Deliveries leased by this worker",
            registry=self.registry,
        )
        self.store_errors = Counter(
            "hookline_store_errors",
            "Worker database operations that failed and were retried",
            registry=self.registry,
        )
        self.calls_accepted = Counter(
            "hookline_calls_accepted", "Async API calls accepted", registry=self.registry
        )
        self.calls_finished = Counter(
            "hookline_calls_finished",
            "Async API calls ended, by final status",
            ["status"],
            registry=self.registry,
        )
        self.upstream_requests = Counter(
            "hookline_upstream_requests",
            "Requests to API upstreams, by status code or error class",
            ["outcome"],
            registry=self.registry,
        )
