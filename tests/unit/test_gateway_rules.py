"""The pure rules of a call: transitions, upstream backoff, settlement, admission."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.domain import calls as rules
from hookline.domain.gateway import Call, CallStatus, LedgerKind

OPEN = [CallStatus.QUEUED, CallStatus.RUNNING]
FINAL = [s for s in CallStatus if s.is_final]


@pytest.mark.parametrize("current", FINAL)
@pytest.mark.parametrize("to", list(CallStatus))
def test_an_ended_call_never_changes(current: CallStatus, to: CallStatus) -> None:
    assert not rules.can_finish(current, to)


def test_open_calls_end_in_final_states_only() -> None:
    assert rules.can_finish(CallStatus.RUNNING, CallStatus.SUCCEEDED)
    assert rules.can_finish(CallStatus.QUEUED, CallStatus.CANCELLED)
    assert not rules.can_finish(CallStatus.QUEUED, CallStatus.SUCCEEDED)
    assert not rules.can_finish(CallStatus.QUEUED, CallStatus.RUNNING)


@given(
    status=st.sampled_from(list(CallStatus)),
    price=st.integers(min_value=0, max_value=10**12),
)
def test_settlements_sum_to_zero_and_only_success_costs(status: CallStatus, price: int) -> None:
    cost, postings = rules.settlement(status=status, price=price, consumer_id="c", owner_id="o")
    assert sum(p.amount for p in postings) == 0
    if status is CallStatus.SUCCEEDED and price:
        assert cost == price
        assert {(p.account_id, p.kind, p.amount) for p in postings} == {
            ("c", LedgerKind.CHARGE, -price),
            ("o", LedgerKind.EARNING, price),
        }
    else:
        assert (cost, postings) == (0, [])


def test_transient_statuses() -> None:
    assert rules.is_transient(None)  # no answer at all
    assert all(rules.is_transient(c) for c in (429, 502, 503, 504))
    assert not any(rules.is_transient(c) for c in (200, 400, 404, 500, 501))


def test_backoff_grows_is_capped_and_honours_retry_after() -> None:
    delays = [rules.upstream_backoff(n, base=0.5, retry_after=None, jitter=0) for n in (1, 2, 3)]
    assert delays == [0.5, 1.0, 2.0]
    assert rules.upstream_backoff(30, base=0.5, retry_after=None, jitter=1) == rules.MAX_BACKOFF
    assert rules.upstream_backoff(1, base=0.5, retry_after=7, jitter=0) == 7
    assert rules.upstream_backoff(1, base=0.5, retry_after=10**6, jitter=0) == rules.MAX_BACKOFF
    assert rules.upstream_backoff(1, base=1.0, retry_after=None, jitter=1) == pytest.approx(1.2)


def test_retries_are_bounded_by_attempts_and_deadline() -> None:
    assert rules.should_retry_upstream(1, 0.5, remaining=10)
    assert not rules.should_retry_upstream(rules.MAX_UPSTREAM_ATTEMPTS, 0.5, remaining=10)
    assert not rules.should_retry_upstream(1, 5, remaining=4)


def test_interrupted_calls_rerun_only_when_idempotent() -> None:
    assert rules.after_interruption(idempotent=True, attempts=1) is None
    failed = rules.after_interruption(idempotent=False, attempts=1)
    assert failed is not None
    assert (failed.status, failed.error) == (CallStatus.FAILED, "interrupted")
    worn = rules.after_interruption(idempotent=True, attempts=rules.MAX_INTERRUPTED_RUNS)
    assert worn is not None
    assert worn.error == "interrupted"


def test_upstream_answers_become_outcomes() -> None:
    assert rules.outcome_of_response(201, {"a": 1}).status is CallStatus.SUCCEEDED
    failed = rules.outcome_of_response(422, "nope")
    assert (failed.status, failed.result_status_code, failed.error) == (
        CallStatus.FAILED,
        422,
        "upstream_error",
    )


def test_admission_respects_room_and_per_api_limits() -> None:
    candidates = [("c1", "a"), ("c2", "a"), ("c3", "b"), ("c4", "a"), ("c5", "b")]
    assert rules.admit(candidates, {"a": 1}, {"a": 2, "b": None}, room=10) == ["c1", "c3", "c5"]
    assert rules.admit(candidates, {}, {"a": None, "b": None}, room=2) == ["c1", "c2"]
    assert rules.admit(candidates, {"a": 2}, {"a": 2, "b": 1}, room=10) == ["c3"]


def test_terms_make_test_calls_free_and_cap_the_timeout() -> None:
    assert rules.call_terms(api_price=9, api_timeout=60, test=False, timeout=None) == (9, 60)
    assert rules.call_terms(api_price=9, api_timeout=60, test=True, timeout=5) == (0, 5)
    assert rules.call_terms(api_price=9, api_timeout=60, test=False, timeout=600) == (9, 60)


def test_completed_webhook_data_has_the_documented_fields() -> None:
    t = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    call = Call(
        id="call_1", consumer_id="c", api_id="api_1", owner_id="o", method="POST", path="",
        params=None, body=None, webhook_url=None, endpoint_id=None, progress_updates=False,
        idempotency_key=None, test=False, price=5, cost=5, timeout=60, status=CallStatus.SUCCEEDED,
        attempts=1, deadline=None, callback_base=None, progress=None, result_status_code=200,
        result_body={"x": 1}, error=None, error_detail=None, created_at=t, started_at=t,
        completed_at=t, updated_at=t,
    )  # fmt: skip
    assert rules.completed_data(call) == {
        "request_id": "call_1",
        "api_id": "api_1",
        "status": "succeeded",
        "result": {"status_code": 200, "body": {"x": 1}},
        "error": None,
        "cost": 5,
        "test": False,
        "created_at": "2026-11-22T12:00:00.000Z",
        "completed_at": "2026-11-22T12:00:00.000Z",
    }
