"""The declared schema. Migrations must reproduce exactly this (a test checks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    sa.Column("secret", sa.String(300), nullable=False),
    sa.Column("previous_secret", sa.String(300)),
    _time("previous_secret_expires_at", nullable=True),
    sa.Column("signature_scheme", sa.String(20), nullable=False),
    sa.Column("signature_header", sa.String(64)),
    sa.Column("retry_policy", sa.JSON()),
    sa.Column("headers", sa.JSON(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("disabled_reason", sa.String(64)),
    sa.Column("failure_count", sa.Integer(), nullable=False, default=0),
    _time("first_failure_at", nullable=True),
    _time("last_failure_at", nullable=True),
    _time("created_at"),
    _time("updated_at"),
    sa.Index(None, "account_id", "status"),
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
    # The claim query walks this index: due pending deliveries, oldest first.
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "status", "lease_expires_at"),
    sa.Index(None, "endpoint_id", "id"),
    sa.Index(None, "message_id"),
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
    sa.Index(None, "delivery_id", "id"),
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
    sa.Column("signing_secret", sa.String(300), nullable=False),
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

# The webhooks of a call are the messages whose idempotency key is the call's id.
sa.Index(None, messages.c.account_id, messages.c.idempotency_key)
