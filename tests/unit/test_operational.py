from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.domain.dispatch import Decision, Outcome, SendResult
from hookline.domain.ids import id_time_ms, lowest_id, new_id
from hookline.domain.models import DeliveryStatus, Trigger
from hookline.domain.operational import for_outcome
from hookline.domain.search import DeliveryFilter, percentile

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def outcome(
    status: DeliveryStatus,
    attempts_made: int,
    *,
    code: int = 500,
    trigger: Trigger = Trigger.SCHEDULED,
    event_type: str = "order.paid",
    test: bool = False,
) -> Outcome:
    return Outcome(
        delivery_id="dlv_1",
        endpoint_id="ep_1",
        message_id="msg_1",
        trigger=trigger,
        attempt_id="atmpt_1",
        attempts_made=attempts_made,
        result=SendResult(started_at=NOW, duration_ms=5, status_code=code),
        decision=Decision(
            status, NOW + timedelta(seconds=1) if status is DeliveryStatus.PENDING else None
        ),
        account_id="acct_1",
        app_id="app_1",
        event_type=event_type,
        test=test,
    )


def kind(o: Outcome, failing_after: int = 3) -> str | None:
    event = for_outcome(o, failing_after=failing_after)
    return event.event_type if event else None


def test_exhausted_carries_the_last_attempt() -> None:
    event = for_outcome(outcome(DeliveryStatus.FAILED, 5), failing_after=3)
    assert event is not None
    assert event.event_type == "hookline.delivery.exhausted"
    data = orjson.loads(event.payload)
    assert data["last_attempt"]["attempt_id"] == "atmpt_1"
    assert data["last_attempt"]["status_code"] == 500
    assert (event.account_id, event.app_id) == ("acct_1", "app_1")


def test_failing_only_at_the_nth_failed_attempt() -> None:
    assert kind(outcome(DeliveryStatus.PENDING, 2)) is None
    assert kind(outcome(DeliveryStatus.PENDING, 3)) == "hookline.delivery.failing"
    assert kind(outcome(DeliveryStatus.PENDING, 4)) is None
    assert kind(outcome(DeliveryStatus.PENDING, 3), failing_after=0) is None


def test_recovered_only_after_failing_was_raised() -> None:
    assert kind(outcome(DeliveryStatus.SUCCEEDED, 3, code=200)) is None
    assert kind(outcome(DeliveryStatus.SUCCEEDED, 4, code=200)) == "hookline.delivery.recovered"
    manual = outcome(DeliveryStatus.SUCCEEDED, 9, code=200, trigger=Trigger.MANUAL)
    assert kind(manual) is None


@pytest.mark.parametrize(
    "o",
    [
        outcome(DeliveryStatus.FAILED, 5, event_type="hookline.delivery.exhausted"),
        outcome(DeliveryStatus.PENDING, 3, event_type="hookline.webhook.disabled"),
        outcome(DeliveryStatus.FAILED, 5, test=True),
    ],
)
def test_operational_and_test_deliveries_raise_nothing(o: Outcome) -> None:
    assert for_outcome(o, failing_after=3) is None


@given(st.integers(min_value=0, max_value=2**47), st.binary(min_size=10, max_size=10))
def test_lowest_id_bounds_ids_of_that_millisecond(ms: int, rand: bytes) -> None:
    assert lowest_id("dlv", ms) <= new_id("dlv", ms, rand) < lowest_id("dlv", ms + 1)
    assert id_time_ms(lowest_id("dlv", ms)) == ms


def test_filter_window_as_id_range() -> None:
    f = DeliveryFilter(since=NOW, until=NOW + timedelta(seconds=1))
    ms = int(NOW.timestamp() * 1000)
    assert f.min_id == lowest_id("dlv", ms)
    assert f.below_id == lowest_id("dlv", ms + 1000)
    assert DeliveryFilter.from_document(f.to_document()) == f


@pytest.mark.parametrize(
    ("n", "fraction", "rank"),
    [(1, 0.5, 0), (1, 0.95, 0), (2, 0.5, 0), (10, 0.5, 4), (10, 0.95, 9), (100, 0.95, 94)],
)
def test_percentile_is_nearest_rank(n: int, fraction: float, rank: int) -> None:
    assert percentile(n, fraction) == rank
