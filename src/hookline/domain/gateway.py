"""The gateway's entities: catalog entries (Api), calls, wallets and ledger entries.

Amounts are integers in the smallest unit of the operator's currency (cents, for a
currency that has them). Hookline never converts or rounds money.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Completion(StrEnum):
    """How an upstream delivers its answer."""

    HOLD = "hold"  # Hookline keeps the request open; the response is the result
    CALLBACK = "callback"  # the upstream POSTs the result to a per-call URL later


class ApiStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    DELETED = "deleted"


class CallStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    # Its deadline (cancel_after) passed before it started: released, never forwarded.
    ABORTED = "aborted"

    @property
    def is_final(self) -> bool:
        return self not in (CallStatus.QUEUED, CallStatus.RUNNING)


FINAL_STATUSES = tuple(s for s in CallStatus if s.is_final)
OPEN_STATUSES = (CallStatus.QUEUED, CallStatus.RUNNING)


class LedgerKind(StrEnum):
    CREDIT = "credit"  # an admin added funds to an account
    CHARGE = "charge"  # a consumer paid for a succeeded call
    EARNING = "earning"  # the API's owner was paid for it


@dataclass(frozen=True, slots=True)
class Api:
    id: str
    owner_id: str
    name: str
    description: str
    upstream_url: str
    completion: Completion
    timeout: float
    price: int
    public: bool
    max_concurrency: int | None
    idempotent: bool
    test_calls: int
    status: ApiStatus
    created_at: datetime
    updated_at: datetime
    retry_on: RetryOn | None = None


@dataclass(frozen=True, slots=True)
class UpstreamAttempt:
    """One request to the upstream: its answer (or the failure to get one) and duration."""

    status_code: int | None
    error: str | None
    duration_ms: int
    at: datetime


@dataclass(frozen=True, slots=True)
class RetryOn:
    """An API's own rule for retrying its upstream: which statuses mean "try again", the
    first backoff in seconds (doubling), and how many requests at most in all."""

    statuses: tuple[int, ...]
    backoff: float
    max_attempts: int


@dataclass(frozen=True, slots=True)
class Call:
    id: str
    consumer_id: str
    api_id: str
    owner_id: str
    method: str
    path: str
    params: Any
    body: Any
    webhook_url: str | None
    endpoint_id: str | None
    progress_updates: bool
    idempotency_key: str | None
    test: bool
    price: int  # reserved at acceptance; 0 for test calls
    cost: int  # what was captured: price on success, else 0
    timeout: float
    status: CallStatus
    attempts: int
    deadline: datetime | None
    callback_base: str | None
    progress: Any
    result_status_code: int | None
    result_body: Any
    error: str | None
    error_detail: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    # Running, and the upstream has taken it: only its callback or the deadline ends it.
    awaiting_callback: bool = False
    # The consumer's deadline (cancel_after), counted from acceptance, queue time included.
    cancel_at: datetime | None = None
    # Which webhooks the consumer wants: a subset of start, progress, completed.
    webhook_events: tuple[str, ...] = ("completed",)
    # Every request made to the upstream for this call: status, error, duration.
    upstream_attempts: tuple[UpstreamAttempt, ...] = ()
    result_expunged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Wallet:
    account_id: str
    balance: int  # spendable now
    reserved: int  # held for calls still open
    signing_secret: str = field(repr=False)
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: str
    account_id: str
    settlement_id: str
    call_id: str | None
    api_id: str | None
    kind: LedgerKind
    amount: int
    note: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Dispatched:
    """A claimed call with its API: what the runner needs to forward it."""

    call: Call
    api: Api


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a call ended: the final state the store records in one transaction."""

    status: CallStatus
    result_status_code: int | None = None
    result_body: Any = None
    error: str | None = None
    error_detail: str | None = None
    attempts: tuple[UpstreamAttempt, ...] = ()


@dataclass(frozen=True, slots=True)
class UsageRow:
    api_id: str
    period: str
    calls: int
    succeeded: int
    failed: int
    test_calls: int
    amount: int
