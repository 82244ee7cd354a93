"""Pure rules of waiting, deadlines, webhook choice and retry_on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hookline.domain import calls as rules
from hookline.domain.gateway import CallStatus, RetryOn


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30", 30.0),
        (30, 30.0),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1.5h", 5400.0),
        ("250ms", 0.25),
        ("2d", 172800.0),
        (" 5M ", 300.0),
    ],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert rules.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-5m", "0", "0s", "nan", "inf", "5 minutes", True])
def test_not_durations(text: str | bool) -> None:
    assert rules.parse_duration(text) is None


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("wait=10", 10.0),
        ("respond-async, wait=5", 5.0),
        ("return=minimal; wait=2.5", 2.5),
        ("WAIT=3", 3.0),
        ("wait=600", rules.MAX_WAIT),
        ('wait="7"', 7.0),
    ],
)
def test_prefer_wait(header: str, wait: float) -> None:
    assert rules.prefer_wait(header) == wait


@pytest.mark.parametrize(
    "header", [None, "", "respond-async", "wait=", "wait=x", "wait=-1", "wait=0"]
)
def test_prefer_without_a_usable_wait_is_ignored(header: str | None) -> None:
    assert rules.prefer_wait(header) is None


def test_webhook_events() -> None:
    assert rules.webhook_events(None, progress=False) == ("completed",)
    assert rules.webhook_events(None, progress=True) == ("progress", "completed")
    assert rules.webhook_events(["completed", "start"], progress=False) == ("start", "completed")
    assert rules.webhook_events([], progress=False) == ()
    assert rules.webhook_events(["finished"], progress=False) is None


def test_progress_webhooks_are_due_once_per_interval() -> None:
    t = datetime(2026, 11, 23, tzinfo=UTC)
    assert rules.progress_webhook_due(None, t, 5)
    assert not rules.progress_webhook_due(t, t + timedelta(seconds=4.9), 5)
    assert rules.progress_webhook_due(t, t + timedelta(seconds=5), 5)
    assert rules.progress_webhook_due(t, t, 0)


def test_a_deadline_aborts_a_queued_call_and_cancels_a_running_one() -> None:
    queued = rules.deadline_outcome(CallStatus.QUEUED)
    running = rules.deadline_outcome(CallStatus.RUNNING)
    assert (queued.status, queued.error) == (CallStatus.ABORTED, "deadline")
    assert (running.status, running.error) == (CallStatus.CANCELLED, "deadline")
    assert rules.can_finish(CallStatus.QUEUED, CallStatus.ABORTED)
    for status in (CallStatus.ABORTED, CallStatus.CANCELLED, CallStatus.FAILED):
        cost, postings = rules.settlement(status=status, price=10, consumer_id="a", owner_id="b")
        assert (cost, postings) == (0, [])


def test_retry_on_replaces_the_default_rule() -> None:
    own = RetryOn(statuses=(500,), backoff=1.0, max_attempts=2)
    assert rules.is_transient(500, own)
    assert not rules.is_transient(503, own)
    assert rules.is_transient(None, own)  # connection errors are always retried
    assert rules.is_transient(503)
    assert not rules.is_transient(500)
    assert rules.should_retry_upstream(1, 1.0, 10.0, own)
    assert not rules.should_retry_upstream(2, 1.0, 10.0, own)
    assert rules.should_retry_upstream(3, 1.0, 10.0)
