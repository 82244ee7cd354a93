"""Prometheus metrics, one registry per running system (never module-level globals)."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from hookline.domain.retention import PurgeCounts

# From milliseconds (a healthy receiver) to a day (a receiver that was down for hours).
LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400,
)  # fmt: skip
OTHER_WEBHOOKS = "_other"


class Metrics:
    def __init__(self, webhook_labels: int = 100) -> None:
        self.registry = CollectorRegistry()
        self._webhook_labels = webhook_labels
        self._labelled: set[str] = set()
        self._label_lock = threading.Lock()
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
        self.backlog_pending = Gauge(
            "hookline_backlog_pending_deliveries",
            "Deliveries waiting to be sent (pending, of active webhooks), sampled periodically",
            registry=self.registry,
        )
        self.backlog_held = Gauge(
            "hookline_backlog_held_deliveries",
            "Pending deliveries held back because their webhook is not active",
            registry=self.registry,
        )
        self.backlog_oldest_due = Gauge(
            "hookline_backlog_oldest_due_seconds",
            "How long the most overdue sendable delivery has been due (0: none is due)",
            registry=self.registry,
        )
        self.backlog_sampled_at = Gauge(
            "hookline_backlog_sampled_timestamp_seconds",
            "When the backlog gauges were last computed (Unix time)",
            registry=self.registry,
        )
        self.webhook_circuits = Gauge(
            "hookline_webhook_circuits",
            "Active webhooks whose circuit breaker is open or half open (probing), by state; "
            "sampled with the backlog",
            ["state"],
            registry=self.registry,
        )
        self.publish_to_first_attempt = Histogram(
            "hookline_publish_to_first_attempt_seconds",
            "Time from an event's publish to the start of its first delivery attempt",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.publish_to_success = Histogram(
            "hookline_publish_to_success_seconds",
            "Time from an event's publish to the end of its successful delivery attempt",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.webhook_failures = Counter(
            "hookline_webhook_failed_attempts",
            "Failed delivery attempts per webhook; past the label limit, webhooks share "
            f'webhook="{OTHER_WEBHOOKS}"',
            ["webhook"],
            registry=self.registry,
        )
        self.upstream_seconds = Histogram(
            "hookline_upstream_request_duration_seconds",
            "Time from forwarding an async API call to its upstream's answer",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.call_seconds = Histogram(
            "hookline_call_duration_seconds",
            "Time from accepting an async API call to its end, by final status",
            ["status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

        self.source_head = Gauge(
            "hookline_source_head_block",
            "The chain head a source's node reported last",
            ["source"],
            registry=self.registry,
        )
        self.source_processed = Gauge(
            "hookline_source_processed_block",
            "The last block a source has published notifications for",
            ["source"],
            registry=self.registry,
        )
        self.source_lag = Gauge(
            "hookline_source_lag_blocks",
            "Blocks between a source's head and its last processed block",
            ["source"],
            registry=self.registry,
        )
        self.source_errors = Counter(
            "hookline_source_errors",
            "Failed follow steps of a source (RPC errors, timeouts, database)",
            ["source"],
            registry=self.registry,
        )

        self.purged_rows = Counter(
            "hookline_purged_rows",
            "Rows removed by retention purges, by table",
            ["table"],
            registry=self.registry,
        )

    def count_purged(self, counts: PurgeCounts) -> None:
        for table, n in counts.as_dict().items():
            if n:
                self.purged_rows.labels(table).inc(n)

    def webhook_label(self, webhook_id: str) -> str:
        """The label for a webhook: its id for the first ``webhook_labels`` webhooks this
        process sees failing, then one shared label, so the series stay bounded and a
        labelled counter never disappears while the process runs."""
        if webhook_id in self._labelled:
            return webhook_id
        with self._label_lock:
            if len(self._labelled) < self._webhook_labels:
                self._labelled.add(webhook_id)
                return webhook_id
        return OTHER_WEBHOOKS
