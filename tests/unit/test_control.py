"""The pure parts of delivery control: the rate limit's arithmetic, a receiver's request
to slow down, and the circuit breaker's window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hookline.domain.control import (
    THROTTLE_PAUSE,
    BreakerSettings,
    FailureWindow,
    after_sending,
    allowance,
    burst,
    slow_down,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_burst_is_one_seconds_worth() -> None:
    assert [burst(r) for r in (0.5, 1, 2.5, 10)] == [1, 1, 3, 10]


def test_a_fresh_limit_allows_a_burst_then_one_per_interval() -> None:
    rate = 4.0
    assert allowance(rate, None, T0) == 4
    send_after = after_sending(rate, None, T0, 4)
    assert send_after == at(0.25)
    assert allowance(rate, send_after, at(0.2)) == 0
    assert allowance(rate, send_after, at(0.25)) == 1
    send_after = after_sending(rate, send_after, at(0.25), 1)
    assert send_after == at(0.5)


def test_sends_in_any_window_stay_within_burst_plus_rate() -> None:
    rate, send_after = 3.0, None
    starts: list[float] = []
    for step in range(200):  # a claim every 10 ms for 2 s, taking all it may
        now = at(step * 0.01)
        n = allowance(rate, send_after, now)
        if n:
            starts += [step * 0.01] * n
            send_after = after_sending(rate, send_after, now, n)
    for i, first in enumerate(starts):
        for w in (0.5, 1.0, 1.5):
            inside = [s for s in starts[i:] if s < first + w]
            assert len(inside) <= burst(rate) + rate * w + 1e-9


def test_an_idle_limit_refills_no_further_than_the_burst() -> None:
    send_after = after_sending(2.0, None, T0, 2)
    assert allowance(2.0, send_after, at(3600)) == 2


def test_slow_down_on_429_and_503_with_retry_after() -> None:
    assert slow_down(429, 7.0, most=3600) == 7.0
    assert slow_down(429, None, most=3600) == THROTTLE_PAUSE
    assert slow_down(503, 2.0, most=3600) == 2.0
    assert slow_down(503, None, most=3600) is None
    assert slow_down(500, 9.0, most=3600) is None
    assert slow_down(429, 99999.0, most=60) == 60


def test_the_window_opens_on_mostly_failures_with_enough_volume() -> None:
    w = FailureWindow(BreakerSettings(failure_ratio=0.8, min_attempts=5, window=10))
    assert not any(w.add("ep", 0.0, failed=True) for _ in range(4))
    assert w.add("ep", 0.5, failed=True)


def test_successes_keep_it_closed_and_old_attempts_age_out() -> None:
    w = FailureWindow(BreakerSettings(failure_ratio=0.8, min_attempts=5, window=10))
    for i in range(3):
        assert not w.add("ep", float(i), failed=True)
    assert not w.add("ep", 3.0, failed=False)
    assert not w.add("ep", 4.0, failed=False)  # 3 of 5 failed: under 0.8
    w2 = FailureWindow(BreakerSettings(failure_ratio=0.9, min_attempts=5, window=10))
    for i in range(4):
        w2.add("ep", float(i), failed=True)
    assert not w2.add("ep", 4.0, failed=False)  # 4 of 5 < 0.9
    # Twenty seconds later the old failures no longer count.
    assert not w2.add("ep", 24.0, failed=True)


def test_a_healthy_webhook_is_not_tracked_and_zero_turns_it_off() -> None:
    w = FailureWindow(BreakerSettings(min_attempts=1))
    assert not w.add("ep", 0.0, failed=False)
    assert w.add("ep", 0.0, failed=True)
    off = FailureWindow(BreakerSettings(min_attempts=0))
    assert not any(off.add("ep", 0.0, failed=True) for _ in range(100))
