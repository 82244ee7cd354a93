"""The declared schema. Migrations must reproduce exactly this (a test checks)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite keeps naive UTC text, which sorts correctly.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = _utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # The text SQLAlchemy's SQLite DATETIME would write for the naive UTC value, in
        # one step instead of three: the hot path binds several times per delivery.
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            value = _utc(value)
            return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # noqa: UP031 (twice as fast)
                value.year,
                value.month,
                value.day,
                value.hour,
                value.minute,
                value.second,
                value.microsecond,
            )

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC)


def _compact_json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # what orjson does not take (keys that are not strings, big ints)
        return json.dumps(value, separators=(",", ":"))


def _sealer(dialect: Dialect) -> Any:
    sealer = getattr(dialect, "hookline_sealer", None)
    if sealer is None:
        raise RuntimeError("this database was opened without a secret key")
    return sealer


class SealedText(sa.TypeDecorator[str]):
    """A secret, sealed on the way in and opened on the way out (``store/sealing.py``).

    The sealer hangs on the engine's dialect (``Database`` puts it there), so nothing
    is read at import time. PostgreSQL keeps the longer sealed form as ``text``; the
    column was ``varchar(300)`` before, a length SQLite never enforces.
    """

    impl = sa.String(300).with_variant(sa.Text(), "postgresql")
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else str(_sealer(dialect).seal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(_sealer(dialect).open(value))


class SealedJSON(sa.TypeDecorator[Any]):
    """A JSON document kept sealed: the column holds a JSON string, the sealed text."""

    impl = sa.JSON()
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return _sealer(dialect).seal(_compact_json(value))

    def bind_processor(self, dialect: Dialect) -> Any:
        # What process_bind_param and the JSON column would write, in fewer steps: an
        # attempt's request headers are sealed once per attempt. The sealed text is
        # ASCII that JSON never escapes (``fernet:`` and URL-safe base64), so its JSON
        # string is the text in quotes. None goes the JSON column's way (``null``).
        default = super().bind_processor(dialect)

        def process(value: Any) -> Any:
            if value is None:
                return default(value) if default is not None else None
            return '"' + _sealer(dialect).seal(_compact_json(value)) + '"'

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or not isinstance(value, str):
            # A document stored plain by a version before sealing (attempts' request
            # headers): readable as it is until the next start seals it.
            return value
        return json.loads(_sealer(dialect).open(value))


def _id(name: str = "id") -> sa.Column[str]:
    return sa.Column(name, sa.String(40), primary_key=True)


def _ref(name: str, target: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(40), sa.ForeignKey(target), nullable=nullable)


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


accounts = sa.Table(
    "accounts",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    _time("created_at"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    _id(),
    _ref("account_id", "accounts.id"),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200)),
    _time("created_at"),
    _time("revoked_at", nullable=True),
    sa.Index(None, "account_id"),
)

applications = sa.Table(
    "applications",
    metadata,
    _id(),
    _ref("account_id", "accounts.id"),
    sa.Column("uid", sa.String(256)),
    sa.Column("name", sa.String(256), nullable=False),
    _time("created_at"),
    sa.UniqueConstraint("account_id", "uid"),
)

endpoints = sa.Table(
    "endpoints",
    metadata,
    _id(),
    _ref("account_id", "accounts.id"),
    _ref("app_id", "applications.id"),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False, default=""),
    sa.Column("event_types", sa.JSON()),
    sa.Column("secret", SealedText(), nullable=False),
    sa.Column("previous_secret", SealedText()),
    _time("previous_secret_expires_at", nullable=True),
    sa.Column("signature_scheme", sa.String(20), nullable=False),
    sa.Column("signature_header", sa.String(64)),
    sa.Column("retry_policy", sa.JSON()),
    sa.Column("headers", SealedJSON(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("disabled_reason", sa.String(64)),
    sa.Column("failure_count", sa.Integer(), nullable=False, default=0),
    _time("first_failure_at", nullable=True),
    _time("last_failure_at", nullable=True),
    _time("created_at"),
    _time("updated_at"),
    # Opt-in: send the W3C traceparent of the publish to this receiver.
    sa.Column("send_traceparent", sa.Boolean(), nullable=False, server_default=sa.false()),
    # Names of custom headers whose values are secrets: masked wherever they are shown.
    sa.Column("secret_headers", sa.JSON()),
    sa.Column("rules", sa.JSON(none_as_null=True)),
    # push: the worker sends; listen: `hookline listen` pulls over a stream.
    sa.Column("mode", sa.String(16), nullable=False, server_default="push"),
    # Delivery control (docs/delivery-control.md): sends per second (None: no limit),
    # "fifo" or "unordered", and this webhook's own request timeout (None: the server's).
    sa.Column("rate_limit", sa.Float()),
    sa.Column("ordering", sa.String(16), nullable=False, server_default="unordered"),
    sa.Column("timeout", sa.Float()),
    # The circuit breaker: closed, open (paused until send_after) or half_open (probing).
    sa.Column("circuit", sa.String(16), nullable=False, server_default="closed"),
    # No send to this webhook before this time: the rate limit's next slot, a receiver's
    # 429/Retry-After, the circuit's cool-down.
    _time("send_after", nullable=True),
    # Whether the claim must go through the controlled path (a rate limit, FIFO, an open
    # circuit or a pause): the plain claim skips these, so uncontrolled webhooks pay nothing.
    sa.Column("controlled", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Index(None, "account_id", "status"),
    sa.Index(None, "controlled", "send_after"),
)

messages = sa.Table(
    "messages",
    metadata,
    _id(),
    _ref("account_id", "accounts.id"),
    _ref("app_id", "applications.id"),
    sa.Column("event_type", sa.String(255), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("idempotency_key", sa.String(255)),
    _time("created_at"),
    # The W3C trace context of the publish, so delivery spans can link back to it.
    sa.Column("trace_context", sa.String(512)),
    sa.Index(None, "account_id", "id"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    _ref("message_id", "messages.id"),
    _time("expires_at"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    _id(),
    _ref("message_id", "messages.id"),
    _ref("endpoint_id", "endpoints.id"),
    _ref("account_id", "accounts.id"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    _time("next_attempt_at", nullable=True),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("lease_owner", sa.String(64)),
    _time("lease_expires_at", nullable=True),
    _time("last_attempt_at", nullable=True),
    sa.Column("last_status_code", sa.Integer()),
    _time("created_at"),
    _time("updated_at"),
    # The message's type, copied at fan-out so searches by type need no join.
    sa.Column("event_type", sa.String(255), nullable=False),
    # Sent by POST /v1/webhooks/{id}/test: shown as such, never raises operational events.
    sa.Column("test", sa.Boolean(), nullable=False),
    # The claim query walks this index: due pending deliveries, oldest first.
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "status", "lease_expires_at"),
    sa.Index(None, "endpoint_id", "id"),
    sa.Index(None, "message_id"),
    # Searches and bulk retries across the account and within one webhook (docs/design.md).
    sa.Index(None, "account_id", "id"),
    sa.Index(None, "account_id", "status", "id"),
    sa.Index(None, "account_id", "event_type", "id"),
    sa.Index(None, "endpoint_id", "status", "id"),
)

attempts = sa.Table(
    "attempts",
    metadata,
    _id(),
    _ref("delivery_id", "deliveries.id"),
    sa.Column("endpoint_id", sa.String(40), nullable=False),
    sa.Column("message_id", sa.String(40), nullable=False),
    _time("created_at"),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("status_code", sa.Integer()),
    sa.Column("response_body", sa.Text()),
    sa.Column("duration_ms", sa.Integer(), nullable=False),
    sa.Column("error", sa.String(32)),
    sa.Column("error_detail", sa.Text()),
    # The exact request sent; the body is kept once per distinct content (request_bodies).
    sa.Column("request_method", sa.String(10)),
    sa.Column("request_url", sa.Text()),
    # Custom header values travel in the request: sealed like the webhook's own.
    sa.Column("request_headers", SealedJSON()),
    sa.Column("request_body_sha256", sa.String(64)),
    sa.Column("response_headers", sa.JSON()),
    sa.Index(None, "delivery_id", "id"),
    sa.Index(None, "endpoint_id", "id"),
)

# Request bodies, content-addressed: every attempt of a delivery sends the same bytes,
# so they are stored once and attempts refer to them by SHA-256 (checked on write).
request_bodies = sa.Table(
    "request_bodies",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("body", sa.LargeBinary(), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    _time("created_at"),
)

# Bulk re-queues (recover, bulk retry): done in chunks in the background, resumable.
requeue_jobs = sa.Table(
    "requeue_jobs",
    metadata,
    _id(),
    _ref("account_id", "accounts.id"),
    sa.Column("filters", sa.JSON(), nullable=False),
    sa.Column("expected", sa.Integer(), nullable=False),
    sa.Column("queued", sa.Integer(), nullable=False),
    sa.Column("last_id", sa.String(40)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("lease_owner", sa.String(64)),
    _time("lease_expires_at", nullable=True),
    _time("created_at"),
    _time("updated_at"),
    _time("finished_at", nullable=True),
    sa.Index(None, "status", "lease_expires_at"),
    sa.Index(None, "account_id", "id"),
)

event_types = sa.Table(
    "event_types",
    metadata,
    _id(),
    _ref("account_id", "accounts.id"),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("schema", sa.JSON(none_as_null=True)),
    sa.Column("example", sa.JSON(none_as_null=True)),
    # Bumped on every change: publishers compare it to recompile a cached schema.
    sa.Column("version", sa.Integer(), nullable=False),
    _time("archived_at", nullable=True),
    _time("created_at"),
    _time("updated_at"),
    sa.UniqueConstraint("account_id", "name"),
    sa.Index(None, "account_id", "id"),
)

# -- the gateway (async API calls) ---------------------------------------------------------
# Amounts are integers in the smallest unit of the operator's currency (e.g. cents).

wallets = sa.Table(
    "wallets",
    metadata,
    # One per account that has ever called, earned or been credited; created on first use.
    sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("balance", sa.BigInteger(), nullable=False),
    sa.Column("reserved", sa.BigInteger(), nullable=False),
    sa.Column("signing_secret", SealedText(), nullable=False),
    _time("created_at"),
    _time("updated_at"),
    sa.CheckConstraint("balance >= 0", name="ck_wallets_balance_not_negative"),
    sa.CheckConstraint("reserved >= 0", name="ck_wallets_reserved_not_negative"),
)

apis = sa.Table(
    "apis",
    metadata,
    _id(),
    _ref("owner_id", "accounts.id"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("upstream_url", sa.Text(), nullable=False),
    sa.Column("completion", sa.String(16), nullable=False),
    sa.Column("timeout", sa.Float(), nullable=False),
    sa.Column("price", sa.BigInteger(), nullable=False),
    sa.Column("public", sa.Boolean(), nullable=False),
    sa.Column("max_concurrency", sa.Integer()),
    sa.Column("idempotent", sa.Boolean(), nullable=False),
    sa.Column("test_calls", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    _time("created_at"),
    _time("updated_at"),
    sa.Index(None, "owner_id", "id"),
    sa.Index(None, "status", "public"),
)

calls = sa.Table(
    "calls",
    metadata,
    _id(),
    _ref("consumer_id", "accounts.id"),
    _ref("api_id", "apis.id"),
    sa.Column("owner_id", sa.String(40), nullable=False),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("path", sa.Text(), nullable=False),
    sa.Column("params", sa.Text()),
    sa.Column("body", sa.Text()),
    sa.Column("webhook_url", sa.Text()),
    _ref("endpoint_id", "endpoints.id", nullable=True),
    sa.Column("progress_updates", sa.Boolean(), nullable=False),
    sa.Column("idempotency_key", sa.String(255)),
    sa.Column("test", sa.Boolean(), nullable=False),
    sa.Column("price", sa.BigInteger(), nullable=False),
    sa.Column("cost", sa.BigInteger(), nullable=False),
    sa.Column("timeout", sa.Float(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("lease_owner", sa.String(64)),
    _time("lease_expires_at", nullable=True),
    _time("deadline", nullable=True),
    sa.Column("callback_base", sa.Text()),
    sa.Column("callback_token_hash", sa.String(64)),
    sa.Column("progress", sa.Text()),
    sa.Column("result_status_code", sa.Integer()),
    sa.Column("result_body", sa.Text()),
    sa.Column("error", sa.String(64)),
    sa.Column("error_detail", sa.Text()),
    _time("created_at"),
    _time("started_at", nullable=True),
    _time("completed_at", nullable=True),
    _time("updated_at"),
    sa.UniqueConstraint("consumer_id", "idempotency_key"),
    sa.Index(None, "consumer_id", "id"),
    sa.Index(None, "status", "api_id"),
    sa.Index(None, "owner_id", "completed_at"),
)

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    _id(),
    _ref("account_id", "accounts.id"),
    # The entries of one settlement share this id (the call's id for call settlements).
    sa.Column("settlement_id", sa.String(40), nullable=False),
    sa.Column("call_id", sa.String(40)),
    sa.Column("api_id", sa.String(40)),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", sa.BigInteger(), nullable=False),
    sa.Column("note", sa.String(500)),
    _time("created_at"),
    sa.Index(None, "account_id", "id"),
    sa.Index(None, "settlement_id"),
)

# -- scheduled delivery and retention (docs/design.md: Retention) -------------------------

# When the event's deliveries become due, if the publisher chose a later time.
messages.append_column(_time("deliver_at", nullable=True))
# The purge walks finished deliveries oldest first by the time they finished.
sa.Index(None, deliveries.c.status, deliveries.c.updated_at)
# A request body goes when no attempt refers to it any more: found through this.
sa.Index(None, attempts.c.request_body_sha256)
# Deleting an event checks its foreign keys: without this, a scan of every key per event.
sa.Index(None, idempotency_keys.c.message_id)

# The webhooks of a call are the messages whose idempotency key is the call's id.
sa.Index(None, messages.c.account_id, messages.c.idempotency_key)

# The first answer to each Idempotency-Key of a POST, per caller ("admin" or an account).
# status_code NULL: the first request is still running (until locked_until).
idempotent_requests = sa.Table(
    "idempotent_requests",
    metadata,
    sa.Column("scope", sa.String(40), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer()),
    sa.Column("content_type", sa.String(255)),
    sa.Column("body", sa.LargeBinary()),
    _time("locked_until"),
    _time("expires_at"),
    sa.Index(None, "expires_at"),
)


# -- async calls as inference platforms do them (waiting, deadlines, event log) ---------

for _column in (
    _time("cancel_at", nullable=True),  # the consumer's deadline (cancel_after)
    sa.Column("webhook_events", sa.String(64)),  # comma-separated; NULL: "completed"
    _time("progress_sent_at", nullable=True),  # the last progress webhook (coalescing)
    sa.Column("upstream_attempts", sa.Text()),  # JSON list: status, error, duration
    _time("result_expunged_at", nullable=True),  # the result was removed by retention
):
    calls.append_column(_column)
apis.append_column(sa.Column("retry_on", sa.Text()))  # JSON: statuses, backoff, max_attempts
sa.Index(None, calls.c.status, calls.c.cancel_at)
sa.Index(None, calls.c.completed_at)

call_events = sa.Table(
    "call_events",
    metadata,
    # A call's status changes and progress, in order: what its event stream replays.
    _ref("call_id", "calls.id"),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # status | progress
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("data", sa.Text()),
    _time("created_at"),
    sa.PrimaryKeyConstraint("call_id", "seq"),
)


# Event sources (chain followers). The cursor and the follower's lease live on the row.
sources = sa.Table(
    "sources",
    metadata,
    _id(),
    _ref("account_id", "accounts.id"),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("rpc_url", sa.Text(), nullable=False),
    sa.Column("chain_id", sa.BigInteger()),
    sa.Column("confirmations", sa.JSON(), nullable=False),
    sa.Column("poll_interval", sa.Float(), nullable=False),
    sa.Column("start_block", sa.BigInteger()),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("cursor_block", sa.BigInteger()),
    sa.Column("cursor_hash", sa.String(80)),
    sa.Column("head_block", sa.BigInteger()),
    sa.Column("last_error", sa.Text()),
    _time("last_error_at", nullable=True),
    sa.Column("lease_owner", sa.String(64)),
    _time("lease_expires_at", nullable=True),
    _time("created_at"),
    _time("updated_at"),
    sa.Index(None, "account_id", "id"),
    sa.Index(None, "status", "lease_expires_at"),
)

source_addresses = sa.Table(
    "source_addresses",
    metadata,
    _ref("source_id", "sources.id"),
    sa.Column("address", sa.String(128), nullable=False),
    sa.Column("label", sa.String(200)),
    _time("created_at"),
    sa.PrimaryKeyConstraint("source_id", "address"),
)

# Recently processed blocks, kept to find the common ancestor after a reorg.
source_blocks = sa.Table(
    "source_blocks",
    metadata,
    _ref("source_id", "sources.id"),
    sa.Column("number", sa.BigInteger(), nullable=False),
    sa.Column("hash", sa.String(80), nullable=False),
    sa.PrimaryKeyConstraint("source_id", "number"),
)

# Notifications whose block may still be replaced: higher confirmations come from here,
# and a reorg names them.
source_notifications = sa.Table(
    "source_notifications",
    metadata,
    _ref("source_id", "sources.id"),
    sa.Column("ref", sa.String(255), nullable=False),
    sa.Column("event_type", sa.String(255), nullable=False),
    sa.Column("block_number", sa.BigInteger(), nullable=False),
    sa.Column("block_hash", sa.String(80), nullable=False),
    sa.Column("data", sa.Text(), nullable=False),
    sa.Column("confirmed", sa.Integer(), nullable=False),
    sa.Column("event_ids", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("source_id", "ref"),
    sa.Index(None, "source_id", "block_number"),
)


_new: sa.Column[Any]
# -- applications as a resource, and the Svix-compatible API -------------------------------

for _new in (
    sa.Column("metadata", sa.JSON(none_as_null=True)),  # string to string, the caller's
    sa.Column("rate_limit", sa.Integer()),  # stored and shown; not enforced
    _time("updated_at", nullable=True),  # NULL: never changed since created_at
    # Deleted applications keep their row (their events and webhooks refer to it) and
    # give up their uid, so it can name a new one.
    _time("deleted_at", nullable=True),
):
    applications.append_column(_new)
for _new in (
    # envelope: Hookline's event envelope; raw: the payload itself, as Svix sends it.
    sa.Column("payload_format", sa.String(16), nullable=False, server_default="envelope"),
    sa.Column("uid", sa.String(256)),  # unique within the application
    sa.Column("metadata", sa.JSON(none_as_null=True)),
    sa.Column("channels", sa.JSON(none_as_null=True)),  # NULL: every channel
):
    endpoints.append_column(_new)
sa.Index(None, endpoints.c.app_id, endpoints.c.uid, unique=True)
for _new in (
    sa.Column("channels", sa.JSON(none_as_null=True)),
    sa.Column("tags", sa.JSON(none_as_null=True)),
):
    messages.append_column(_new)

# -- the web console and the embeddable portal ---------------------------------------------

# A signed-in browser: the cookie carries a random token; only its digest is stored.
console_sessions = sa.Table(
    "console_sessions",
    metadata,
    _id(),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scope", sa.String(16), nullable=False),  # admin | account | application
    _ref("account_id", "accounts.id", nullable=True),  # NULL: the admin
    _ref("app_id", "applications.id", nullable=True),  # set for portal sessions alone
    # The digest of the key signed in with: a revoked key ends its sessions.
    sa.Column("key_hash", sa.String(64)),
    _time("created_at"),
    _time("expires_at"),
    sa.Index(None, "expires_at"),
)

# A portal link's one-time token, exchanged for a portal session on first use.
portal_tokens = sa.Table(
    "portal_tokens",
    metadata,
    _id(),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _ref("account_id", "accounts.id"),
    _ref("app_id", "applications.id"),
    _time("created_at"),
    _time("expires_at"),
    _time("used_at", nullable=True),
    sa.Index(None, "expires_at"),
)

# How an account's portal looks to its own customers.
account_branding = sa.Table(
    "account_branding",
    metadata,
    sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("name", sa.String(200)),
    sa.Column("logo_url", sa.Text()),
    sa.Column("accent_color", sa.String(7)),
    _time("updated_at"),
)
