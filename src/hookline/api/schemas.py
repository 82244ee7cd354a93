"""Request bodies. Unknown fields are refused so that typos do not pass silently."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from hookline.domain.control import MAX_RATE, MIN_RATE
from hookline.services.webhooks import MAX_EVENT_PATTERNS, MAX_HEADERS

# Sizes of lists and maps, declared so that the OpenAPI states them (the service checks
# the same numbers).
Pattern = Annotated[str, Field(max_length=255)]
HeaderName = Annotated[str, Field(max_length=64)]
HeaderValue = Annotated[str, Field(max_length=1024)]
Events = Annotated[list[Pattern] | None, Field(max_length=MAX_EVENT_PATTERNS)]
Headers = Annotated[dict[HeaderName, HeaderValue] | None, Field(max_length=MAX_HEADERS)]
AppRef = Annotated[
    str | None,
    Field(
        default=None,
        min_length=1,
        max_length=256,
        description="an application's id or uid; the default application when absent",
    ),
]
RetryPolicyDoc = Annotated[dict[str, Any] | None, Field(max_length=8)]
RateLimit = Annotated[
    float | None,
    Field(
        default=None,
        ge=MIN_RATE,
        le=MAX_RATE,
        description="deliveries per second at most (bursts of ceil(rate)); null: no limit",
    ),
]
Timeout = Annotated[
    float | None,
    Field(
        default=None,
        gt=0,
        description="seconds one attempt may take, up to the server's "
        "HOOKLINE_DELIVERY_TIMEOUT; null: that maximum",
    ),
]


def _date_time_text(value: Any) -> Any:
    """Only the ISO 8601 text the OpenAPI declares (``format: date-time``): pydantic
    would also take a number (or a numeric string) as Unix seconds."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time with a time zone")
    try:
        float(value)
    except ValueError:
        return value
    raise ValueError("must be an ISO 8601 date-time with a time zone")


Timestamp = Annotated[AwareDatetime, BeforeValidator(_date_time_text)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountCreate(Strict):
    name: str = Field(min_length=1, max_length=200)


class KeyCreate(Strict):
    name: str | None = Field(default=None, max_length=200)


class Signature(Strict):
    scheme: Literal["standard", "sha256-hex"] = "standard"
    header: str | None = Field(default=None, max_length=64)


KeyTypeField = Field(
    default=None,
    description="the kind of secret to generate when none is given: hmac-sha256 "
    "(whsec_, signs v1) or ed25519 (whsk_, signs v1a; receivers verify with the whpk_ "
    "public key). A given secret's prefix says its kind.",
)


class WebhookCreate(Strict):
    callback_url: str | None = Field(default=None, max_length=2048)
    secret: str | None = Field(default=None, max_length=300)
    key_type: Literal["hmac-sha256", "ed25519"] | None = KeyTypeField
    events: Events = None
    retry_policy: RetryPolicyDoc = Field(
        default=None,
        description='{"schedule": [1, 4, 16]} or {"min_delay": 30, "max_delay": 600, '
        '"max_attempts": 5, "max_age": 604800}',
    )
    signature: Signature | None = None
    description: str = Field(default="", max_length=1000)
    headers: Headers = None
    send_traceparent: bool = False
    secret_headers: list[str] | None = Field(default=None, max_length=32)
    rules: list[Any] | None = Field(
        default=None,
        description='[{"field": "quantity", "operator": ">", "value": "5"}]: all must match',
    )
    rate_limit: RateLimit = None
    ordering: Literal["unordered", "fifo"] = Field(
        default="unordered", description="fifo: one delivery at a time, in publish order"
    )
    timeout: Timeout = None
    application: AppRef = None
    payload_format: Literal["envelope", "raw"] = Field(
        default="envelope",
        description="envelope: Hookline's event envelope; raw: the event's data alone",
    )
    mode: Literal["push", "listen"] = Field(
        default="push",
        description="listen: deliveries wait for `hookline listen` to stream them; "
        "callback_url is then only a label (where the CLI forwards)",
    )

    @model_validator(mode="after")
    def _push_needs_a_url(self) -> WebhookCreate:
        if self.mode == "push" and self.callback_url is None:
            raise ValueError("callback_url is required")
        return self


class WebhookUpdate(Strict):
    callback_url: str | None = Field(default=None, max_length=2048)
    events: Events = None
    retry_policy: RetryPolicyDoc = None
    signature: Signature | None = None
    description: str | None = Field(default=None, max_length=1000)
    headers: Headers = None
    active: bool | None = None
    payload_format: Literal["envelope", "raw"] | None = None
    send_traceparent: bool | None = None
    secret_headers: list[str] | None = Field(default=None, max_length=32)
    rules: list[Any] | None = None
    rate_limit: RateLimit = None
    ordering: Literal["unordered", "fifo"] | None = None
    timeout: Timeout = None


class SecretRotate(Strict):
    secret: str | None = Field(default=None, max_length=300)
    key_type: Literal["hmac-sha256", "ed25519"] | None = KeyTypeField


class EventCreate(Strict):
    type: str = Field(min_length=1, max_length=255)
    data: Any = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)
    application: AppRef = None
    deliver_at: Timestamp | None = Field(
        default=None,
        description="deliver no sooner than this (RFC 3339); at most the retention window "
        "ahead; a past time means now",
    )


Metadata = Annotated[dict[Annotated[str, Field(max_length=256)], str] | None, Field(max_length=50)]


class ApplicationCreate(Strict):
    name: str = Field(min_length=1, max_length=256)
    uid: str | None = Field(default=None, min_length=1, max_length=256)
    metadata: Metadata = None
    rate_limit: int | None = Field(default=None, ge=1, le=1_000_000)


class ApplicationUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    uid: str | None = Field(default=None, min_length=1, max_length=256)
    metadata: Metadata = None
    rate_limit: int | None = Field(default=None, ge=1, le=1_000_000)


class EventBatch(Strict):
    events: list[EventCreate] = Field(min_length=1, max_length=500)


class Recover(Strict):
    since: Timestamp
    until: Timestamp | None = None
    statuses: list[Literal["failed", "held"]] | None = Field(default=None, min_length=1)


RetryStatus = Literal["failed", "held", "succeeded", "cancelled"]


class BulkRetry(Strict):
    webhook_id: str | None = Field(default=None, max_length=40)
    event_type: str | None = Field(default=None, max_length=255)
    status: RetryStatus | list[RetryStatus] | None = None
    since: Timestamp | None = None
    until: Timestamp | None = None


class Resend(Strict):
    webhook_id: str = Field(max_length=40)


class TestEvent(Strict):
    type: str | None = Field(default=None, min_length=1, max_length=255)
    data: Any = None


class EventTypeCreate(Strict):
    # No coercion: "archived": 0 or "chain_id": "5" is refused, as the schema says.
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=2000)
    schema_: Any = Field(default=None, alias="schema")
    example: Any = None


class EventTypeUpdate(Strict):
    # No coercion: "archived": 0 or "chain_id": "5" is refused, as the schema says.
    model_config = ConfigDict(extra="forbid", strict=True)

    description: str | None = Field(default=None, max_length=2000)
    schema_: Any = Field(default=None, alias="schema")
    example: Any = None
    archived: bool | None = None


class ListenReport(Strict):
    session: str = Field(max_length=64)
    status_code: int | None = None
    response_body: str | None = Field(default=None, max_length=65536)
    duration_ms: int = Field(default=0, ge=0, le=86_400_000)
    error: str | None = Field(default=None, max_length=64)
    error_detail: str | None = Field(default=None, max_length=1000)


class Purge(Strict):
    # No coercion: "dry_run": 0 is refused, as the schema says.
    model_config = ConfigDict(extra="forbid", strict=True)

    dry_run: bool = Field(default=False, description="count what would go; remove nothing")


class PortalSessionCreate(Strict):
    # Not bounded here: the service refuses with invalid_expires_in, as documented.
    expires_in: int | None = Field(
        default=None,
        description="seconds the link may be opened in, and the portal session lasts: "
        "60 up to HOOKLINE_PORTAL_MAX_SECONDS (default 7 days); default 3600 "
        "(invalid_expires_in otherwise)",
    )


class BrandingUpdate(Strict):
    """The portal's whole branding: a field left out or null is cleared."""

    name: str | None = Field(
        default=None, description="at most 200 characters (invalid_name); null: no name"
    )
    logo_url: str | None = Field(
        default=None,
        description="an http(s) URL, or a path of this server, of at most 2048 characters "
        "(invalid_logo_url); the portal loads images from this server or over HTTPS",
    )
    accent_color: str | None = Field(
        default=None, description="a colour such as #1f6feb (invalid_accent_color)"
    )
