"""Request bodies of the gateway routes. Unknown fields are refused."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from hookline.api.schemas import Strict


class RetryOnSpec(Strict):
    statuses: list[int] = Field(description="upstream statuses that mean: try again")
    backoff: float = Field(default=1.0, description="first wait in seconds, doubling")
    max_attempts: int = Field(default=3, description="requests in all, the first included")


class ApiCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    upstream_url: str = Field(max_length=2048)
    completion: Literal["hold", "callback"] = "hold"
    timeout: float = Field(default=300.0, description="seconds")
    price: int = Field(default=0, description="per call, in minor units (e.g. cents)")
    public: bool = False
    max_concurrency: int | None = None
    idempotent: bool = Field(
        default=False, description="whether a call interrupted by a restart may be sent again"
    )
    test_calls: int = Field(default=0, description="free test-mode calls per consumer")
    retry_on: RetryOnSpec | None = None


class ApiUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    upstream_url: str | None = Field(default=None, max_length=2048)
    completion: Literal["hold", "callback"] | None = None
    timeout: float | None = None
    price: int | None = None
    public: bool | None = None
    max_concurrency: int | None = None
    idempotent: bool | None = None
    test_calls: int | None = None
    retry_on: RetryOnSpec | None = None


class CallCreate(Strict):
    api_id: str = Field(max_length=64)
    method: str = Field(default="POST", max_length=10)
    path: str = Field(default="", max_length=2048)
    params: Any = None
    body: Any = None
    webhook_url: str | None = Field(default=None, max_length=2048)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)
    timeout: float | None = None
    test: bool = False
    progress: bool = Field(default=False, description="also send call.progress webhooks")
    cancel_after: str | float | None = Field(
        default=None, description='end the call if it has not finished by then ("5m", 30)'
    )
    webhook_events: list[str] | None = Field(
        default=None, max_length=3, description='any of "start", "progress", "completed"'
    )


class InternalCall(Strict):
    """The request shape of self-hosted API gateways' own samples."""

    api_id_public: str = Field(max_length=64)
    method: str = Field(default="POST", max_length=10)
    path: str = Field(default="", max_length=2048)
    params: Any = None
    webhook_url: str | None = Field(default=None, max_length=2048)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)
    cancel_after: str | float | None = None
    webhook_events: list[str] | None = Field(default=None, max_length=3)


class Credit(Strict):
    amount: int = Field(description="minor units (e.g. cents) to add")
    note: str | None = Field(default=None, max_length=500)


class SecretRotate(Strict):
    secret: str | None = Field(default=None, max_length=300)
