from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.domain.retry import (
    DEFAULT_SCHEDULE,
    MAX_DELAY,
    MAX_SCHEDULE_LENGTH,
    InvalidRetryPolicy,
    RetryPolicy,
    next_delay,
    parse_retry_after,
    should_retry,
)

seconds = st.floats(min_value=0, max_value=MAX_DELAY, allow_nan=False)
jitters = st.floats(min_value=0, max_value=1, exclude_max=True)
failures = st.integers(min_value=1, max_value=500)


@st.composite
def exponential_policies(draw: st.DrawFn) -> RetryPolicy:
    low, high = sorted((draw(seconds), draw(seconds)))
    max_age = draw(st.none() | st.floats(min_value=1, max_value=MAX_DELAY))
    return RetryPolicy(
        min_delay=low,
        max_delay=high,
        max_attempts=draw(st.integers(min_value=1, max_value=100)),
        max_age=max_age,
    )


schedules = st.lists(seconds, max_size=MAX_SCHEDULE_LENGTH).map(tuple)
schedule_policies = st.builds(
    RetryPolicy,
    schedule=schedules,
    max_age=st.none() | st.floats(min_value=1, max_value=MAX_DELAY),
)
policies = exponential_policies() | schedule_policies


# -- the server default -------------------------------------------------------------------


def test_the_server_default_is_eight_attempts_on_the_documented_schedule() -> None:
    assert DEFAULT_SCHEDULE == (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
    policy = RetryPolicy(schedule=DEFAULT_SCHEDULE)
    assert policy.attempts_allowed == 8
    delays = [next_delay(policy, n, jitter=0.5) for n in range(1, 8)]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert should_retry(policy, 7, age_at_next=sum(delays))
    assert not should_retry(policy, 8, age_at_next=0)


# -- exponential delays -------------------------------------------------------------------


@given(exponential_policies(), failures, jitters)
def test_exponential_delays_stay_within_the_policy_bounds(
    policy: RetryPolicy, n: int, jitter: float
) -> None:
    delay = next_delay(policy, n, jitter=jitter)
    assert policy.min_delay <= delay <= policy.max_delay


@given(exponential_policies(), failures, jitters)
def test_jitter_keeps_a_delay_within_the_upper_half_of_its_base(
    policy: RetryPolicy, n: int, jitter: float
) -> None:
    base = min(policy.max_delay, policy.min_delay * 2.0 ** min(n - 1, 60))
    delay = next_delay(policy, n, jitter=jitter)
    assert base / 2 <= delay <= base


@given(exponential_policies(), st.integers(min_value=1, max_value=100), jitters)
def test_exponential_delays_never_shrink_from_one_failure_to_the_next(
    policy: RetryPolicy, n: int, jitter: float
) -> None:
    assert next_delay(policy, n, jitter=jitter) <= next_delay(policy, n + 1, jitter=jitter)


def test_exponential_delays_double_until_the_cap() -> None:
    policy = RetryPolicy(min_delay=30, max_delay=600, max_attempts=10)
    # jitter 0.999… gives (almost) the full base; jitter 0 gives half of it.
    top = [round(next_delay(policy, n, jitter=0.999999)) for n in range(1, 8)]
    assert top == [30, 60, 120, 240, 480, 600, 600]
    bottom = [next_delay(policy, n, jitter=0) for n in range(1, 8)]
    assert bottom == [30, 30, 60, 120, 240, 300, 300]


def test_failures_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        next_delay(RetryPolicy(), 0, jitter=0)


# -- fixed schedules ----------------------------------------------------------------------


@given(schedules.filter(bool), failures, jitters)
def test_a_schedule_is_followed_exactly_then_repeats_its_last_delay(
    schedule: tuple[float, ...], n: int, jitter: float
) -> None:
    policy = RetryPolicy(schedule=schedule)
    expected = schedule[n - 1] if n <= len(schedule) else schedule[-1]
    assert next_delay(policy, n, jitter=jitter) == expected


@given(schedules)
def test_a_schedule_allows_one_attempt_more_than_its_delays(schedule: tuple[float, ...]) -> None:
    policy = RetryPolicy(schedule=schedule)
    assert policy.attempts_allowed == len(schedule) + 1
    assert should_retry(policy, len(schedule), age_at_next=0)
    assert not should_retry(policy, len(schedule) + 1, age_at_next=0)


def test_an_empty_schedule_means_a_single_attempt() -> None:
    policy = RetryPolicy(schedule=())
    assert policy.attempts_allowed == 1
    assert not should_retry(policy, 1, age_at_next=0)


# -- Retry-After --------------------------------------------------------------------------


@given(
    policies,
    failures,
    jitters,
    st.floats(min_value=0, max_value=1e9),
    st.floats(min_value=0, max_value=1e6),
)
def test_retry_after_only_lengthens_a_delay_and_only_up_to_its_cap(
    policy: RetryPolicy, n: int, jitter: float, retry_after: float, cap: float
) -> None:
    plain = next_delay(policy, n, jitter=jitter)
    delay = next_delay(policy, n, jitter=jitter, retry_after=retry_after, retry_after_max=cap)
    assert plain <= delay <= max(plain, cap)
    if plain < retry_after <= cap:
        assert delay == retry_after


def test_retry_after_examples() -> None:
    policy = RetryPolicy(schedule=(10,))
    assert next_delay(policy, 1, jitter=0, retry_after=120) == 120
    assert next_delay(policy, 1, jitter=0, retry_after=5) == 10
    assert next_delay(policy, 1, jitter=0, retry_after=7200, retry_after_max=3600) == 3600
    assert next_delay(policy, 1, jitter=0, retry_after=0) == 10
    assert next_delay(policy, 1, jitter=0, retry_after=None) == 10


# -- should_retry -------------------------------------------------------------------------


@given(policies, st.integers(min_value=0, max_value=200), seconds)
def test_should_retry_honours_attempts_and_max_age(
    policy: RetryPolicy, attempts_made: int, age: float
) -> None:
    expected = attempts_made < policy.attempts_allowed and (
        policy.max_age is None or age <= policy.max_age
    )
    assert should_retry(policy, attempts_made, age) is expected


def test_max_age_is_inclusive() -> None:
    policy = RetryPolicy(schedule=(1, 1, 1), max_age=60)
    assert should_retry(policy, 1, 60)
    assert not should_retry(policy, 1, 60.001)


# -- documents ----------------------------------------------------------------------------


@given(policies)
def test_a_policy_survives_its_document(policy: RetryPolicy) -> None:
    assert RetryPolicy.from_document(policy.to_document()) == policy


def test_documents_have_the_shapes_users_send() -> None:
    assert RetryPolicy(schedule=(1, 4, 16)).to_document() == {"schedule": [1, 4, 16]}
    assert RetryPolicy(min_delay=30, max_delay=600, max_attempts=5, max_age=3600).to_document() == {
        "min_delay": 30,
        "max_delay": 600,
        "max_attempts": 5,
        "max_age": 3600,
    }


def test_an_exponential_document_fills_in_defaults() -> None:
    assert RetryPolicy.from_document({}) == RetryPolicy(
        min_delay=30, max_delay=600, max_attempts=5, max_age=None
    )
    assert RetryPolicy.from_document({"max_attempts": 3, "max_age": None}) == RetryPolicy(
        max_attempts=3
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([1, 2], "retry_policy must be an object"),
        ({"schedule": "1,4,16"}, "schedule must be a list of at most 50 delays"),
        ({"schedule": [1] * 51}, "schedule must be a list of at most 50 delays"),
        ({"schedule": [1, True]}, "schedule must be numbers of seconds"),
        ({"schedule": [1, "4"]}, "schedule must be numbers of seconds"),
        ({"schedule": [-1]}, "schedule must be between 0 and 604800 seconds"),
        ({"schedule": [604801]}, "schedule must be between 0 and 604800 seconds"),
        (
            {"schedule": [1], "max_attempts": 3},
            "takes only schedule and max_age, not ['max_attempts']",
        ),
        ({"min_delay": 1, "retries": 3}, "unknown retry_policy fields ['retries']"),
        ({"min_delay": False}, "min_delay must be numbers of seconds"),
        ({"min_delay": -1}, "min_delay must be between 0 and 604800 seconds"),
        ({"max_delay": math.inf}, "max_delay must be between 0 and 604800 seconds"),
        ({"min_delay": math.nan}, "min_delay must be between 0 and 604800 seconds"),
        ({"min_delay": 60, "max_delay": 30}, "max_delay must not be less than min_delay"),
        ({"max_attempts": True}, "max_attempts must be an integer from 1 to 100"),
        ({"max_attempts": 0}, "max_attempts must be an integer from 1 to 100"),
        ({"max_attempts": 101}, "max_attempts must be an integer from 1 to 100"),
        ({"max_attempts": 2.0}, "max_attempts must be an integer from 1 to 100"),
        ({"max_age": 0}, "max_age must be a positive number of seconds"),
        ({"max_age": -5}, "max_age must be a positive number of seconds"),
        ({"max_age": True}, "max_age must be a positive number of seconds"),
        ({"schedule": [1], "max_age": "1d"}, "max_age must be a positive number of seconds"),
    ],
)
def test_unusable_documents_are_refused_with_a_reason(doc: Any, message: str) -> None:
    with pytest.raises(InvalidRetryPolicy) as caught:
        RetryPolicy.from_document(doc)
    assert message in str(caught.value)


def test_an_invalid_policy_is_a_value_error() -> None:
    # Callers that validate input catch ValueError; the policy error must be one.
    assert issubclass(InvalidRetryPolicy, ValueError)


# -- Retry-After header -------------------------------------------------------------------

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds_"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("1.5", None),
        ("-1", None),
        ("Sun, 22 Nov 2026 12:08:00 GMT", 480.0),
        ("Sun, 22 Nov 2026 11:00:00 GMT", 0.0),  # already past
        ("Sun, 22 Nov 2026 12:08:00", None),  # no zone: cannot be placed in time
        ("Mon, 01 Jan 99999 00:00:00 GMT", None),
    ],
)
def test_retry_after_header_values(header: str | None, seconds_: float | None) -> None:
    assert parse_retry_after(header, NOW.timestamp()) == seconds_


@given(st.integers(min_value=0, max_value=10**12))
def test_delta_seconds_read_as_themselves(value: int) -> None:
    assert parse_retry_after(str(value), NOW.timestamp()) == float(value)


@given(st.integers(min_value=0, max_value=10 * 365 * 86400))
def test_http_dates_read_as_seconds_from_now(ahead: int) -> None:
    header = format_datetime(NOW + timedelta(seconds=ahead), usegmt=True)
    assert parse_retry_after(header, NOW.timestamp()) == ahead


@pytest.mark.parametrize("header", ["\u00b2", "\u00b30", "\u0663", "\uff11\uff12\uff10"])
def test_only_ascii_digits_are_delta_seconds(header: str) -> None:
    # str.isdigit() accepts these, and float() refuses some of them: a receiver's header
    # must never make the send itself fail.
    assert parse_retry_after(header, NOW.timestamp()) is None


@given(st.text())
def test_any_retry_after_header_reads_as_none_or_a_non_negative_delay(header: str) -> None:
    seconds_ = parse_retry_after(header, NOW.timestamp())
    assert seconds_ is None or seconds_ >= 0


@pytest.mark.parametrize("value", [math.nan, math.inf])
@pytest.mark.parametrize("shape", [{}, {"schedule": [1]}])
def test_max_age_must_be_a_finite_number(value: float, shape: dict[str, Any]) -> None:
    # Python's JSON parser accepts NaN and Infinity; a NaN max_age would silently stop
    # all retries, and neither can be stored as standard JSON.
    with pytest.raises(InvalidRetryPolicy, match="max_age must be a positive number"):
        RetryPolicy.from_document({**shape, "max_age": value})
