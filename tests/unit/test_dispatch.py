from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.domain.dispatch import (
    Decision,
    ErrorClass,
    SendResult,
    classify_status,
    decide,
    should_disable,
)
from hookline.domain.models import DeliveryStatus, Trigger
from hookline.domain.retry import RetryPolicy

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SCHEDULE = RetryPolicy(schedule=(10, 60, 600))  # four attempts


def result(
    status_code: int | None = None,
    *,
    retry_after: float | None = None,
    error: str | None = None,
) -> SendResult:
    return SendResult(
        started_at=NOW,
        duration_ms=12,
        status_code=status_code,
        retry_after=retry_after,
        error=error,
    )


def decide_(
    outcome: SendResult,
    attempts_made: int = 1,
    *,
    trigger: Trigger = Trigger.SCHEDULED,
    policy: RetryPolicy = SCHEDULE,
    age: float = 0,
    jitter: float = 0.5,
    retry_after_max: float = 3600,
) -> Decision:
    return decide(
        result=outcome,
        attempts_made=attempts_made,
        trigger=trigger,
        policy=policy,
        message_created_at=NOW - timedelta(seconds=age),
        now=NOW,
        jitter=jitter,
        retry_after_max=retry_after_max,
    )


@pytest.mark.parametrize("code", [200, 201, 202, 204, 299])
@pytest.mark.parametrize("trigger", list(Trigger))
def test_any_2xx_succeeds(code: int, trigger: Trigger) -> None:
    assert decide_(result(code), trigger=trigger) == Decision(DeliveryStatus.SUCCEEDED, None)
    assert result(code).succeeded
    assert classify_status(code) is None


def test_success_on_the_last_allowed_attempt_still_succeeds() -> None:
    assert decide_(result(200), attempts_made=4).status is DeliveryStatus.SUCCEEDED


@pytest.mark.parametrize("trigger", list(Trigger))
def test_410_gone_fails_at_once_and_disables_the_webhook(trigger: Trigger) -> None:
    assert decide_(result(410), attempts_made=1, trigger=trigger) == Decision(
        DeliveryStatus.FAILED, None, disable_reason="gone"
    )


@pytest.mark.parametrize("code", [None, 199, 300, 301, 302, 304, 400, 404, 409, 429, 500, 503])
def test_anything_else_is_retried_on_the_schedule(code: int | None) -> None:
    outcome = result(code, error=None if code else ErrorClass.TIMEOUT)
    assert not outcome.succeeded
    if code is not None:
        assert classify_status(code) == ErrorClass.HTTP_STATUS
    for attempts_made, delay in [(1, 10), (2, 60), (3, 600)]:
        assert decide_(outcome, attempts_made) == Decision(
            DeliveryStatus.PENDING, NOW + timedelta(seconds=delay)
        )


def test_the_last_attempt_failing_fails_the_delivery_without_disabling() -> None:
    assert decide_(result(500), attempts_made=4) == Decision(DeliveryStatus.FAILED, None)


def test_a_manual_retry_is_a_single_attempt() -> None:
    assert decide_(result(500), attempts_made=1, trigger=Trigger.MANUAL) == Decision(
        DeliveryStatus.FAILED, None
    )


def test_no_attempt_is_scheduled_past_max_age() -> None:
    policy = RetryPolicy(schedule=(30,) * 5, max_age=60)
    assert decide_(result(500), policy=policy, age=30) == Decision(
        DeliveryStatus.PENDING, NOW + timedelta(seconds=30)
    )
    assert decide_(result(500), policy=policy, age=31) == Decision(DeliveryStatus.FAILED, None)


def test_retry_after_lengthens_the_wait_within_its_cap() -> None:
    assert decide_(result(503, retry_after=120)).next_attempt_at == NOW + timedelta(seconds=120)
    assert decide_(result(503, retry_after=2)).next_attempt_at == NOW + timedelta(seconds=10)
    capped = decide_(result(429, retry_after=86400), retry_after_max=900)
    assert capped.next_attempt_at == NOW + timedelta(seconds=900)


def test_a_retry_after_beyond_max_age_fails_the_delivery() -> None:
    policy = RetryPolicy(schedule=(10, 10), max_age=300)
    assert decide_(result(503, retry_after=600), policy=policy) == Decision(
        DeliveryStatus.FAILED, None
    )


def test_exponential_policies_use_the_jitter_given() -> None:
    policy = RetryPolicy(min_delay=100, max_delay=1000, max_attempts=5)
    low = decide_(result(500), attempts_made=3, policy=policy, jitter=0)
    high = decide_(result(500), attempts_made=3, policy=policy, jitter=0.5)
    assert low.next_attempt_at == NOW + timedelta(seconds=200)
    assert high.next_attempt_at == NOW + timedelta(seconds=300)


failing_codes = st.none() | st.integers(100, 599).filter(lambda c: not 200 <= c < 300 and c != 410)


@given(
    failing_codes,
    st.integers(min_value=1, max_value=10),
    st.lists(st.integers(0, 3600), max_size=8).map(tuple),
    st.none() | st.integers(1, 20000),
    st.integers(0, 20000),
)
def test_a_scheduled_failure_is_pending_exactly_while_the_policy_allows(
    code: int | None,
    attempts_made: int,
    schedule: tuple[float, ...],
    max_age: int | None,
    age: int,
) -> None:
    policy = RetryPolicy(schedule=schedule, max_age=max_age)
    decision = decide_(result(code), attempts_made, policy=policy, age=age)
    assert decision.disable_reason is None
    if decision.status is DeliveryStatus.PENDING:
        assert decision.next_attempt_at is not None
        assert decision.next_attempt_at >= NOW
        assert attempts_made < policy.attempts_allowed
        if max_age is not None:
            assert decision.next_attempt_at <= NOW - timedelta(seconds=age - max_age)
    else:
        assert decision == Decision(DeliveryStatus.FAILED, None)
        would_be = age + (schedule[min(attempts_made, len(schedule)) - 1] if schedule else 0)
        assert attempts_made >= policy.attempts_allowed or (
            max_age is not None and would_be > max_age
        )


def test_should_disable_after_failing_for_long_enough() -> None:
    day = 86400.0
    assert should_disable(NOW - timedelta(days=5), NOW, 5 * day)
    assert should_disable(NOW - timedelta(days=6), NOW, 5 * day)
    assert not should_disable(NOW - timedelta(days=5) + timedelta(seconds=1), NOW, 5 * day)


def test_should_disable_never_without_a_failure_or_a_threshold() -> None:
    assert not should_disable(None, NOW, 60)
    assert not should_disable(NOW - timedelta(days=365), NOW, 0)
