"""Settings, read once at start-up from ``HOOKLINE_*`` environment variables.

Every CLI flag maps to one of these fields; nothing here is created at import time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hookline.domain.control import BreakerSettings
from hookline.domain.egress import IPNetwork, parse_networks
from hookline.domain.retention import InvalidDuration, parse_duration
from hookline.domain.retry import DEFAULT_SCHEDULE, InvalidRetryPolicy, RetryPolicy
from hookline.store.sealing import parse_keys

DEFAULT_DATA_DIR = ".hookline"
# scheme://host[:port], nothing else: what a CSP frame-ancestors source may name here.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOOKLINE_", extra="forbid")

    database_url: str = Field(
        default="",
        description="sqlite:///path.db or postgresql://user@host/db; "
        "default: a SQLite file in the data directory",
    )
    data_dir: Path = Field(default=Path(DEFAULT_DATA_DIR), description="where SQLite data lives")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    admin_key: SecretStr | None = Field(
        default=None, description="bootstrap admin key; generated into the data dir if unset"
    )
    egress_allow: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="comma-separated CIDRs that deliveries may reach despite "
        "being private (e.g. 127.0.0.0/8 for local development)",
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    delivery_timeout: float = Field(default=15.0, gt=0, le=300)
    retry_schedule: Annotated[tuple[float, ...], NoDecode] = Field(
        default=DEFAULT_SCHEDULE,
        description="server default retry delays in seconds, comma-separated",
    )
    retry_after_max: float = Field(default=3600.0, ge=0)
    disable_after: float = Field(
        default=5 * 24 * 3600.0,
        ge=0,
        description="disable a webhook whose deliveries have failed for this long "
        "without a success (seconds; 0 never disables)",
    )
    idempotency_ttl: float = Field(default=24 * 3600.0, gt=0)
    worker_concurrency: int = Field(default=256, ge=1, le=10000)
    endpoint_concurrency: int = Field(default=64, ge=1, le=10000)
    batch_size: int = Field(default=128, ge=1, le=5000)
    lease_seconds: float = Field(default=60.0, gt=0)
    poll_interval: float = Field(default=1.0, gt=0, le=60)
    worker_handoff: bool = Field(
        default=True,
        description="in a process that serves the API and runs the worker, give newly "
        "published deliveries straight to that worker, leased, instead of waiting for a claim",
    )
    shutdown_grace: float = Field(default=10.0, ge=0)
    db_pool_size: int = Field(
        default=10, ge=1, le=1000, description="PostgreSQL connections each process keeps open"
    )
    db_max_overflow: int = Field(
        default=10, ge=0, le=1000, description="extra PostgreSQL connections allowed in bursts"
    )
    db_connect_timeout: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="seconds to wait for a database connection before answering 503",
    )
    db_command_timeout: float = Field(
        default=30.0, gt=0, le=3600, description="seconds one database statement may take"
    )
    auto_migrate: bool = True
    public_url: str = Field(
        default="",
        max_length=2048,
        description="the base URL upstreams use to reach this server for call callbacks "
        "(default: the URL the call was made to)",
    )
    call_concurrency: int = Field(
        default=256, ge=1, le=10000, description="async API calls forwarded at once"
    )
    call_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="how long a running call stays with a runner that stopped renewing it",
    )
    upstream_retry_base: float = Field(
        default=0.5, gt=0, le=60, description="first backoff before retrying an upstream"
    )
    log_level: str = "info"
    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet keys that seal stored secrets, comma-separated, newest first; "
        "generated into the data dir if unset",
    )
    max_json_depth: int = Field(
        default=64,
        ge=2,
        le=200,
        description="deepest nesting of arrays and objects a JSON body may have (422 beyond)",
    )
    metrics_port: int = Field(
        default=9464,
        ge=0,
        le=65535,
        description="hookline worker: port of its own /metrics and /health, on --host (0: none)",
    )
    backlog_interval: float = Field(
        default=5.0, gt=0, le=3600, description="seconds between backlog samples for /metrics"
    )
    metrics_webhook_labels: int = Field(
        default=100,
        ge=0,
        le=100000,
        description="webhooks with their own failure counter; the rest share one label",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="text, or json: one JSON object per line"
    )
    failing_after: int = Field(
        default=3,
        ge=0,
        le=1000,
        description="publish hookline.delivery.failing when a delivery's first this many "
        "attempts failed (0: never)",
    )
    response_body_limit: int = Field(
        default=64 * 1024,
        ge=0,
        le=16 * 1024 * 1024,
        description="bytes of each response body kept in the attempt log",
    )
    requeue_chunk: int = Field(
        default=500,
        ge=1,
        le=10000,
        description="deliveries a recover or bulk retry queues again per transaction",
    )
    call_progress_interval: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="at most one call.progress webhook per call in this many seconds",
    )
    call_result_retention: float = Field(
        default=30 * 24 * 3600.0,
        ge=0,
        description="seconds a finished call keeps its result and request body before "
        "they are expunged (the call record stays); 0 keeps them forever",
    )
    retention: float = Field(
        default=30 * 24 * 3600.0,
        description="how long finished deliveries, their attempts and their events are "
        "kept: a number and a unit, e.g. 30d, 12h, 90m, 45s (a bare number is seconds)",
    )
    purge_batch_size: int = Field(
        default=500,
        ge=1,
        le=100000,
        description="deliveries (with their attempts) or events one purge transaction removes",
    )
    purge_interval: float = Field(
        default=60.0,
        gt=0,
        le=86400,
        description="seconds between background purges in the delivery worker",
    )
    source_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="how long a chain source stays with a worker that stopped renewing it",
    )
    source_block_range: int = Field(
        default=100, ge=1, le=10000, description="blocks a source processes per step"
    )
    source_reorg_window: int = Field(
        default=128, ge=1, le=100000, description="recent blocks kept to recover from a reorg"
    )
    source_rpc_timeout: float = Field(
        default=10.0, gt=0, le=300, description="seconds one JSON-RPC request may take"
    )
    source_retry_max: float = Field(
        default=60.0, gt=0, description="longest backoff after a source's RPC errors"
    )
    source_concurrency: int = Field(
        default=64, ge=1, le=10000, description="chain sources one worker follows at once"
    )

    circuit_failure_ratio: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="open a webhook's circuit when at least this share of its recent "
        "attempts failed",
    )
    circuit_min_attempts: int = Field(
        default=20,
        ge=0,
        le=100000,
        description="attempts within the window before the circuit may open (0: never opens)",
    )
    circuit_window: float = Field(
        default=60.0, gt=0, le=3600, description="seconds of recent attempts the circuit judges"
    )
    circuit_cooldown: float = Field(
        default=30.0,
        gt=0,
        le=24 * 3600,
        description="seconds an open circuit pauses its webhook before one probe delivery",
    )
    console_session_seconds: float = Field(
        default=12 * 3600.0,
        ge=60,
        le=30 * 24 * 3600,
        description="how long a console sign-in lasts (seconds)",
    )
    portal_max_seconds: float = Field(
        default=7 * 24 * 3600.0,
        ge=60,
        le=30 * 24 * 3600,
        description="the longest expires_in a portal link may ask for (seconds)",
    )
    portal_frame_ancestors: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="comma-separated origins whose pages may embed the portal in an iframe "
        "(e.g. https://app.example.com); none: only this server's own pages",
    )

    @field_validator("egress_allow", mode="before")
    @classmethod
    def _split_cidrs(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        try:
            parse_networks(value)
        except ValueError as exc:
            raise ValueError(f"egress_allow: {exc}") from None
        return tuple(v.strip() for v in value)

    @field_validator("portal_frame_ancestors", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        origins = tuple(v.strip().rstrip("/") for v in value)
        for origin in origins:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"portal_frame_ancestors: {origin!r} is not an origin such as "
                    "https://app.example.com"
                )
        return origins

    @field_validator("retention", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except InvalidDuration as exc:
                raise ValueError(str(exc)) from None
        if isinstance(value, int | float) and not value > 0:
            raise ValueError("a duration must be more than zero")
        return value

    @field_validator("secret_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_keys(value.get_secret_value())  # its message never repeats a key
        return value

    @field_validator("retry_schedule", mode="before")
    @classmethod
    def _split_schedule(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [float(v) for v in value.split(",") if v.strip()]
        try:
            RetryPolicy.from_document({"schedule": list(value)})
        except InvalidRetryPolicy as exc:
            raise ValueError(str(exc)) from None
        return tuple(value)

    @model_validator(mode="after")
    def _lease_outlives_a_send(self) -> Settings:
        if self.lease_seconds < self.delivery_timeout + 5:
            raise ValueError("lease_seconds must exceed delivery_timeout by at least 5 s")
        return self

    @property
    def breaker(self) -> BreakerSettings:
        return BreakerSettings(
            failure_ratio=self.circuit_failure_ratio,
            min_attempts=self.circuit_min_attempts,
            window=self.circuit_window,
            cooldown=self.circuit_cooldown,
        )

    @property
    def allow_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.egress_allow)

    @property
    def default_retry_policy(self) -> RetryPolicy:
        return RetryPolicy(schedule=self.retry_schedule)

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def sqlalchemy_url(self) -> str:
        """The async driver URL SQLAlchemy needs, from the plain URL users give."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'hookline.db'}"
        for plain, driver in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url
