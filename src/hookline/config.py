"""Settings, read once at start-up from ``HOOKLINE_*`` environment variables.

Every CLI flag maps to one of these fields; nothing here is created at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hookline.domain.egress import IPNetwork, parse_networks
from hookline.domain.retry import DEFAULT_SCHEDULE, InvalidRetryPolicy, RetryPolicy

DEFAULT_DATA_DIR = ".hookline"


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
    log_level: str = "info"

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
