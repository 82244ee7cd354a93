"""Request bodies. Unknown fields are refused so that typos do not pass silently."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountCreate(Strict):
    name: str = Field(min_length=1, max_length=200)


class KeyCreate(Strict):
    name: str | None = Field(default=None, max_length=200)


class Signature(Strict):
    scheme: Literal["standard", "sha256-hex"] = "standard"
    header: str | None = Field(default=None, max_length=64)


class WebhookCreate(Strict):
    callback_url: str = Field(max_length=2048)
    secret: str | None = Field(default=None, max_length=300)
    events: list[str] | None = None
    retry_policy: dict[str, Any] | None = Field(
        default=None,
        description='{"schedule": [1, 4, 16]} or {"min_delay": 30, "max_delay": 600, '
        '"max_attempts": 5, "max_age": 604800}',
    )
    signature: Signature | None = None
    description: str = Field(default="", max_length=1000)
    headers: dict[str, str] | None = None


class WebhookUpdate(Strict):
    callback_url: str | None = Field(default=None, max_length=2048)
    events: list[str] | None = None
    retry_policy: dict[str, Any] | None = None
    signature: Signature | None = None
    description: str | None = Field(default=None, max_length=1000)
    headers: dict[str, str] | None = None
    active: bool | None = None


class SecretRotate(Strict):
    secret: str | None = Field(default=None, max_length=300)


class EventCreate(Strict):
    type: str = Field(min_length=1, max_length=255)
    data: Any = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)


class EventBatch(Strict):
    events: list[EventCreate] = Field(min_length=1, max_length=500)
