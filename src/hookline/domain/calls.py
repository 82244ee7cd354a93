"""Pure rules of a call's life: which transitions are allowed, how transient upstream
failures are retried, what settles, and what the consumer's webhook says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookline.domain.envelope import format_time
from hookline.domain.gateway import Call, CallStatus, LedgerKind, Outcome, RetryOn

# Upstream answers worth another try: the upstream is overloaded or a proxy in front of
# it could not reach it. Anything else the upstream says is the call's result.
TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
MAX_UPSTREAM_ATTEMPTS = 4
MAX_BACKOFF = 30.0
# A hold call whose runner died is tried again at most this many times in all.
MAX_INTERRUPTED_RUNS = 3

COMPLETED_EVENT = "call.completed"
PROGRESS_EVENT = "call.progress"


def is_transient(status_code: int | None, retry_on: RetryOn | None = None) -> bool:
    """True for a connection failure (no status) or a retryable status: the API's own
    ``retry_on`` statuses when it declares them, else 429, 502, 503 and 504."""
    statuses = retry_on.statuses if retry_on is not None else TRANSIENT_STATUS
    return status_code is None or status_code in statuses


def upstream_backoff(
    attempts_made: int, *, base: float, retry_after: float | None, jitter: float
) -> float:
    """Seconds to wait before the next upstream attempt after ``attempts_made`` attempts.

    Exponential from ``base`` (base, 2·base, 4·base …) with up to 20 % jitter, capped at
    MAX_BACKOFF; an upstream's ``Retry-After`` is honoured within the same cap.
    """
    delay = base * float(2 ** max(0, attempts_made - 1))
    delay *= 1 + 0.2 * min(max(jitter, 0.0), 1.0)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, MAX_BACKOFF)


def should_retry_upstream(
    attempts_made: int, delay: float, remaining: float, retry_on: RetryOn | None = None
) -> bool:
    """Another attempt only within the attempt budget (the API's ``retry_on`` limit, else
    MAX_UPSTREAM_ATTEMPTS) and before the call's deadline."""
    limit = retry_on.max_attempts if retry_on is not None else MAX_UPSTREAM_ATTEMPTS
    return attempts_made < limit and delay < remaining


def outcome_of_response(status_code: int, body: Any) -> Outcome:
    """A final upstream answer: 2xx succeeds, anything else fails with it as the result."""
    if 200 <= status_code < 300:
        return Outcome(CallStatus.SUCCEEDED, status_code, body)
    return Outcome(
        CallStatus.FAILED, status_code, body, "upstream_error", f"upstream answered {status_code}"
    )


def after_interruption(*, idempotent: bool, attempts: int) -> Outcome | None:
    """A running call whose runner vanished: None to run it again, or how it ends."""
    if idempotent and attempts < MAX_INTERRUPTED_RUNS:
        return None
    detail = (
        "the call was interrupted too many times"
        if idempotent
        else "Hookline restarted while the upstream was working and the API is not "
        "idempotent, so it was not sent again"
    )
    return Outcome(CallStatus.FAILED, error="interrupted", error_detail=detail)


@dataclass(frozen=True, slots=True)
class Posting:
    """One side of a settlement: who, what kind, how much (signed)."""

    account_id: str
    kind: LedgerKind
    amount: int


def settlement(
    *, status: CallStatus, price: int, consumer_id: str, owner_id: str
) -> tuple[int, list[Posting]]:
    """``(cost, postings)`` when a call ends. The reservation of ``price`` is released in
    every case; only success (a 2xx answer) captures it, as a charge to the consumer and an equal
    earning for the owner. Postings always sum to zero."""
    if status is not CallStatus.SUCCEEDED or price == 0:
        return 0, []
    return price, [
        Posting(consumer_id, LedgerKind.CHARGE, -price),
        Posting(owner_id, LedgerKind.EARNING, price),
    ]


def can_finish(current: CallStatus, to: CallStatus) -> bool:
    """Only an open call ends, and a queued one ends only by cancel, timeout or failure
    (it never succeeded without running)."""
    if current.is_final or not to.is_final:
        return False
    return not (current is CallStatus.QUEUED and to is CallStatus.SUCCEEDED)


def admit(
    candidates: Sequence[tuple[str, str]],
    running: Mapping[str, int],
    limits: Mapping[str, int | None],
    room: int,
) -> list[str]:
    """Which of ``(call_id, api_id)`` candidates (oldest first) may start now: at most
    ``room`` in all, and no API past its ``max_concurrency``."""
    taken: dict[str, int] = dict(running)
    chosen: list[str] = []
    for call_id, api_id in candidates:
        if len(chosen) >= room:
            break
        limit = limits.get(api_id)
        if limit is not None and taken.get(api_id, 0) >= limit:
            continue
        taken[api_id] = taken.get(api_id, 0) + 1
        chosen.append(call_id)
    return chosen


def completed_data(call: Call) -> dict[str, Any]:
    """The ``data`` of the consumer's ``call.completed`` webhook."""
    return {
        "request_id": call.id,
        "api_id": call.api_id,
        "status": call.status.value,
        "result": (
            {"status_code": call.result_status_code, "body": call.result_body}
            if call.result_status_code is not None
            else None
        ),
        "error": (
            {"code": call.error, "message": call.error_detail} if call.error is not None else None
        ),
        "cost": call.cost,
        "test": call.test,
        "created_at": format_time(call.created_at),
        "completed_at": format_time(call.completed_at) if call.completed_at else None,
    }


def progress_data(call: Call, progress: Any, at: datetime) -> dict[str, Any]:
    """The ``data`` of a ``call.progress`` webhook."""
    return {
        "request_id": call.id,
        "api_id": call.api_id,
        "status": call.status.value,
        "progress": progress,
        "at": format_time(at),
    }


def call_terms(
    *, api_price: int, api_timeout: float, test: bool, timeout: float | None
) -> tuple[int, float]:
    """``(price reserved, timeout)`` of a new call: test calls are free, and a consumer
    may ask for a shorter timeout than the API's but never a longer one."""
    price = 0 if test else api_price
    return price, min(timeout, api_timeout) if timeout is not None else api_timeout


# -- waiting, deadlines, which webhooks, retries of a call ------------------------------

STARTED_EVENT = "call.started"
WEBHOOK_EVENTS = ("start", "progress", "completed")
DEFAULT_WEBHOOK_EVENTS = ("completed",)
MAX_WAIT = 60.0
MAX_CANCEL_AFTER = 7 * 24 * 3600.0
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: str | float | int) -> float | None:
    """Seconds from ``30``, ``30s``, ``5m``, ``1.5h``, ``250ms`` or ``2d``; None if it is
    not a positive duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().lower()
        unit = next((u for u in ("ms", "s", "m", "h", "d") if text.endswith(u)), "")
        number = text[: len(text) - len(unit)].strip() if unit else text
        try:
            seconds = float(number) * _UNITS.get(unit, 1.0)
        except ValueError:
            return None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        return None
    return seconds


def prefer_wait(header: str | None) -> float | None:
    """The ``wait`` preference of a ``Prefer`` header (RFC 7240), at most MAX_WAIT
    seconds; None when it asks for none. Other preferences are ignored, as a malformed
    ``wait`` is: a preference never makes a request fail."""
    if not header:
        return None
    for part in header.split(","):
        for pref in part.split(";"):
            name, _, value = pref.strip().partition("=")
            if name.strip().lower() == "wait":
                try:
                    seconds = float(value.strip().strip('"'))
                except ValueError:
                    return None
                if seconds != seconds or seconds <= 0:
                    return None
                return min(seconds, MAX_WAIT)
    return None


def webhook_events(events: Sequence[str] | None, *, progress: bool) -> tuple[str, ...] | None:
    """The webhooks a call sends, in canonical order; None when ``events`` names one that
    does not exist. The older ``progress: true`` adds ``progress``."""
    chosen = set(DEFAULT_WEBHOOK_EVENTS if events is None else events)
    if not chosen <= set(WEBHOOK_EVENTS):
        return None
    if progress:
        chosen.add("progress")
    return tuple(e for e in WEBHOOK_EVENTS if e in chosen)


def progress_webhook_due(last_sent: datetime | None, now: datetime, interval: float) -> bool:
    """Progress webhooks are coalesced: at most one per ``interval`` seconds per call;
    updates in between are kept in the call's event log and its latest ``progress``."""
    return last_sent is None or (now - last_sent).total_seconds() >= interval


def deadline_outcome(status: CallStatus) -> Outcome:
    """What a call's own deadline (``cancel_after``) does: a call that never started is
    ``aborted``; a running one is ``cancelled`` and its upstream request stopped. Both
    release the reservation, so neither is charged."""
    if status is CallStatus.QUEUED:
        return Outcome(
            CallStatus.ABORTED,
            error="deadline",
            error_detail="the call's cancel_after passed before it started",
        )
    return Outcome(
        CallStatus.CANCELLED,
        error="deadline",
        error_detail="the call's cancel_after passed while it was running",
    )


def started_data(call: Call, at: datetime) -> dict[str, Any]:
    """The ``data`` of a ``call.started`` webhook."""
    return {
        "request_id": call.id,
        "api_id": call.api_id,
        "status": CallStatus.RUNNING.value,
        "attempt": call.attempts,
        "at": format_time(at),
    }
