"""The documented shapes of responses, for the OpenAPI document.

Routes build their answers with :mod:`hookline.api.responses` (and return them as
responses, so these models never re-validate a body at run time); these models say what
those answers look like. The schemathesis run in the test suite checks every answer
against them, so a field added in one place and not the other fails CI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Error(BaseModel):
    """Every error: a human message and a stable code (``details`` on validation)."""

    error: str
    code: str = Field(description="stable and machine-readable, e.g. webhook_not_found")
    details: list[dict[str, Any]] | None = Field(
        default=None, description="validation_error only: each problem and where it is"
    )


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")
    has_more: bool


class Items(BaseModel, Generic[T]):
    data: list[T]


# -- accounts and keys ------------------------------------------------------------------


class Account(BaseModel):
    account_id: str
    object: Literal["account"]
    name: str
    created_at: datetime


class ApiKey(BaseModel):
    key_id: str
    object: Literal["api_key"]
    name: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    key: str | None = Field(default=None, description="the key itself: only when created")


class AccountCreated(Account):
    api_key: ApiKey


# -- webhooks, events, deliveries ---------------------------------------------------------


class SignatureOut(BaseModel):
    scheme: Literal["standard", "sha256-hex"]
    header: str | None
    key_type: Literal["hmac-sha256", "ed25519"]
    public_key: str | None = Field(description="whpk_…: verifies v1a signatures; ed25519 only")


class Webhook(BaseModel):
    webhook_id: str
    object: Literal["webhook"]
    callback_url: str
    events: list[str]
    active: bool
    status: Literal["active", "disabled", "deleted"]
    disabled_reason: str | None
    description: str
    retry_policy: dict[str, Any] | None
    signature: SignatureOut
    headers: dict[str, str]
    mode: Literal["push", "listen"]
    application_id: str
    payload_format: Literal["envelope", "raw"]
    secret_headers: list[str] = Field(description="custom headers whose values are masked")
    rules: list[dict[str, Any]] = Field(description="trigger rules; all must match")
    failure_count: int
    last_failure_at: datetime | None
    created_at: datetime
    updated_at: datetime
    send_traceparent: bool
    rate_limit: float | None = Field(description="deliveries per second at most; null: none")
    ordering: Literal["unordered", "fifo"] = Field(
        description="fifo: one delivery at a time, in publish order"
    )
    timeout: float | None = Field(description="seconds per attempt; null: the server's")
    circuit: Literal["closed", "open", "half_open"] = Field(
        description="open: paused after most recent attempts failed; half_open: probing"
    )


class Application(BaseModel):
    application_id: str
    object: Literal["application"]
    uid: str | None
    name: str
    metadata: dict[str, str]
    rate_limit: int | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(Webhook):
    secret: str


class WebhookSecret(BaseModel):
    webhook_id: str
    secret: str
    key_type: Literal["hmac-sha256", "ed25519"]
    public_key: str | None = Field(description="whpk_…: verifies v1a signatures; ed25519 only")


class WebhookSecretRotated(WebhookSecret):
    previous_secret_expires_at: datetime | None


class Attempt(BaseModel):
    attempt_id: str
    created_at: datetime
    trigger: Literal["scheduled", "manual"]
    status_code: int | None
    response_body: str | None
    duration_ms: int | None
    error: str | None
    error_detail: str | None


class Delivery(BaseModel):
    delivery_id: str
    object: Literal["delivery"]
    event_id: str
    event_type: str
    webhook_id: str
    status: Literal["pending", "sending", "succeeded", "failed", "cancelled", "held"]
    test: bool = Field(description="a test send, not a published event's delivery")
    attempt_count: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    created_at: datetime
    updated_at: datetime
    attempts: list[Attempt] | None = Field(default=None, description="in reads of one delivery")


class Event(BaseModel):
    event_id: str
    object: Literal["event"]
    type: str
    data: Any = Field(description="the JSON given when it was published")
    idempotency_key: str | None
    created_at: datetime
    deliver_at: datetime | None = Field(
        description="when the publisher asked for delivery (null: at once)"
    )


class EventDetail(Event):
    deliveries: list[Delivery]


class AttemptRequest(BaseModel):
    method: str
    url: str
    headers: list[list[str]] = Field(description="[name, value] pairs; secret ones masked")
    body: str
    body_base64: str


class AttemptResponse(BaseModel):
    status_code: int
    headers: list[list[str]] | None
    body: str | None


class AttemptDetail(Attempt):
    object: Literal["attempt"]
    delivery_id: str
    webhook_id: str
    event_id: str
    request: AttemptRequest | None
    response: AttemptResponse | None


class RequeueFilters(BaseModel):
    statuses: list[str]
    webhook_id: str | None
    event_type: str | None
    event_id: str | None
    since: str | None
    until: str | None


class Requeue(BaseModel):
    requeue_id: str
    object: Literal["requeue"]
    status: Literal["queued", "running", "done"]
    queued: int = Field(description="how many deliveries matched when it was accepted")
    done: int = Field(description="how many have been queued again so far")
    filters: RequeueFilters
    created_at: datetime
    finished_at: datetime | None


class ResponseTimes(BaseModel):
    p50: int | None
    p95: int | None
    attempts: int


class WebhookStats(BaseModel):
    webhook_id: str
    object: Literal["webhook_stats"]
    since: datetime | None
    counts: dict[str, int] = Field(description="deliveries by status")
    total: int
    success_rate: float | None
    response_time_ms: ResponseTimes
    head_of_line: Delivery | None = Field(
        description="fifo webhooks: the delivery the others wait for (cancel it to skip it)"
    )


class Sent(BaseModel):
    event_id: str
    delivery_id: str
    webhook_id: str
    type: str


class Published(BaseModel):
    event_id: str
    deliveries: int = Field(description="how many webhooks it was fanned out to")
    held: int = Field(description="deliveries kept, not sent, for disabled webhooks")
    created_at: datetime
    duplicate: bool = Field(description="true when the idempotency key named an earlier event")


# -- the gateway --------------------------------------------------------------------------


class RetryOn(BaseModel):
    statuses: list[int]
    backoff: float
    max_attempts: int


class Api(BaseModel):
    """Owners see every field; the catalog leaves out upstream_url, public, idempotent,
    status and updated_at, and adds owner_id."""

    api_id: str
    object: Literal["api"]
    name: str
    description: str
    completion: Literal["hold", "callback"]
    timeout: float
    price: int
    max_concurrency: int | None
    test_calls: int
    retry_on: RetryOn | None
    created_at: datetime
    upstream_url: str | None = None
    public: bool | None = None
    idempotent: bool | None = None
    status: str | None = None
    updated_at: datetime | None = None
    owner_id: str | None = None


class CallResult(BaseModel):
    status_code: int
    body: Any


class CallError(BaseModel):
    code: str
    message: str | None


class CallDelivery(BaseModel):
    delivery_id: str
    type: str
    status: str
    attempt_count: int
    last_status_code: int | None


class UpstreamAttempt(BaseModel):
    status_code: int | None
    error: str | None
    duration_ms: int
    at: datetime


class CallFields(BaseModel):
    request_id: str
    object: Literal["call"]
    api_id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]
    method: str
    path: str
    webhook_url: str | None
    test: bool
    price: int
    cost: int
    timeout: float
    runs: int = Field(description="how many times a runner has taken the call")
    attempts: list[UpstreamAttempt] = Field(description="each request to the upstream")
    queue_position: int | None
    cancel_at: datetime | None
    webhook_events: list[str]
    result_expunged_at: datetime | None
    events_url: str
    awaiting_callback: bool
    progress: Any
    error: CallError | None
    idempotency_key: str | None
    status_url: str
    cancel_url: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    deliveries: list[CallDelivery] | None = Field(default=None, description="in reads of one")
    duplicate: bool | None = Field(default=None, description="in the answer to a new call")


class Call(CallFields):
    result: CallResult | None


class GatewayCall(CallFields):
    """A call as the gateway-style request shapes answer it: the id also as
    ``requestId`` and ``result.requestId``."""

    requestId: str  # the name those request shapes read
    result: dict[str, Any] = Field(description="the result's fields, and requestId")


class CallbackAccepted(BaseModel):
    request_id: str
    status: str


class Balance(BaseModel):
    account_id: str
    object: Literal["balance"]
    balance: int
    reserved: int
    unit: Literal["minor"]
    updated_at: datetime


class LedgerEntry(BaseModel):
    entry_id: str
    object: Literal["ledger_entry"]
    account_id: str
    settlement_id: str
    kind: str
    amount: int
    call_id: str | None
    api_id: str | None
    note: str | None
    created_at: datetime


class Credited(LedgerEntry):
    balance: Balance


class UsageRow(BaseModel):
    api_id: str
    period: str
    calls: int
    succeeded: int
    failed: int
    test_calls: int
    amount: int


class Usage(BaseModel):
    role: Literal["consumer", "owner"]
    period: Literal["day", "month"]
    data: list[UsageRow]


class SigningSecret(BaseModel):
    secret: str
    updated_at: datetime


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    database: str


class ListenReported(BaseModel):
    delivery_id: str
    status: Literal["pending", "succeeded", "failed"]


class PurgeRemoved(BaseModel):
    deliveries: int
    attempts: int
    request_bodies: int
    messages: int = Field(description="events")
    idempotency_keys: int


class PurgeResult(BaseModel):
    dry_run: bool
    cutoff: datetime = Field(description="rows that finished before this time are removed")
    removed: PurgeRemoved = Field(description="per table; in a dry run, what would be")
    complete: bool = Field(
        description="false when this purge stopped at its time limit: old rows remain, "
        "call again to continue"
    )


# -- the portal ---------------------------------------------------------------------------


class PortalSession(BaseModel):
    url: str = Field(
        description="opens the application's portal, once: <public_url>/portal/enter/<token>"
    )
    token: str = Field(description="hkp_…: the one-time token the url carries")
    expires_at: datetime = Field(
        description="until when the link can be opened, and the portal session lasts"
    )


class Branding(BaseModel):
    name: str | None = Field(
        description="shown in the portal's header; the account's name until branding is set"
    )
    logo_url: str | None
    accent_color: str | None = Field(description="#rrggbb")
    updated_at: datetime | None = Field(description="null: never set")
