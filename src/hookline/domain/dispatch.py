"""What happens to a delivery after one HTTP attempt: the pure state transition."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hookline.domain.models import DeliveryStatus, SentRequest, Trigger
from hookline.domain.retry import RetryPolicy, next_delay, should_retry

# The default for how much of a response body an attempt keeps (HOOKLINE_RESPONSE_BODY_LIMIT).
RESPONSE_BODY_LIMIT = 64 * 1024


class ErrorClass:
    """Stable names for why an attempt failed without (or despite) a response."""

    HTTP_STATUS = "http_status"
    TIMEOUT = "timeout"
    CONNECTION = "connection_error"
    EGRESS_BLOCKED = "egress_blocked"
    TLS = "tls_error"
    INVALID_URL = "invalid_url"


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one HTTP attempt produced."""

    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    response_body: str | None = None
    retry_after: float | None = None
    error: str | None = None
    error_detail: str | None = None
    request: SentRequest | None = None
    response_headers: tuple[tuple[str, str], ...] | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class Decision:
    status: DeliveryStatus
    next_attempt_at: datetime | None
    disable_reason: str | None = None


def classify_status(code: int) -> str | None:
    """The error class for an HTTP status: None for 2xx."""
    return None if 200 <= code < 300 else ErrorClass.HTTP_STATUS


def decide(
    *,
    result: SendResult,
    attempts_made: int,
    trigger: Trigger,
    policy: RetryPolicy,
    message_created_at: datetime,
    now: datetime,
    jitter: float,
    retry_after_max: float,
) -> Decision:
    """The delivery's next state after its ``attempts_made``-th attempt ended in ``result``.

    2xx succeeds. 410 Gone fails the delivery and disables the webhook. A manual retry
    is a single attempt. Anything else is retried on the policy until its attempts or
    its max age run out.
    """
    if result.succeeded:
        return Decision(DeliveryStatus.SUCCEEDED, None)
    if result.status_code == 410:
        return Decision(DeliveryStatus.FAILED, None, disable_reason="gone")
    if trigger is Trigger.MANUAL:
        return Decision(DeliveryStatus.FAILED, None)
    delay = next_delay(
        policy,
        attempts_made,
        jitter=jitter,
        retry_after=result.retry_after,
        retry_after_max=retry_after_max,
    )
    at = now + timedelta(seconds=delay)
    age = (at - message_created_at).total_seconds()
    if should_retry(policy, attempts_made, age):
        return Decision(DeliveryStatus.PENDING, at)
    return Decision(DeliveryStatus.FAILED, None)


def should_disable(first_failure_at: datetime | None, now: datetime, disable_after: float) -> bool:
    """A webhook failing without a single success for ``disable_after`` seconds is disabled."""
    if disable_after <= 0 or first_failure_at is None:
        return False
    return (now - first_failure_at).total_seconds() >= disable_after


@dataclass(frozen=True, slots=True)
class Outcome:
    """One finished attempt and what it decided, ready to be recorded."""

    delivery_id: str
    endpoint_id: str
    message_id: str
    trigger: Trigger
    attempt_id: str
    attempts_made: int
    result: SendResult
    decision: Decision
    account_id: str = ""
    app_id: str = ""
    event_type: str = ""
    test: bool = False
    # It was the probe of a half-open circuit (see Dispatch.probe).
    probe: bool = False
    # Its webhook sends in FIFO order: the next one may go once this is recorded.
    ordered: bool = False
    # Its webhook had a failure on record when the delivery was read (a success must
    # then clear it); a worker that knows better keeps this False and tracks its own.
    was_failing: bool = True
