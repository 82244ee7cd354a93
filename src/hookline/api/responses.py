"""JSON rendering with orjson, and the public shapes of domain objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from starlette.responses import JSONResponse

from hookline.domain.envelope import format_time
from hookline.domain.models import (
    Account,
    ApiKey,
    Attempt,
    Delivery,
    Endpoint,
    EndpointStatus,
    Message,
    Page,
)


class JSON(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def ts(value: datetime | None) -> str | None:
    return format_time(value) if value is not None else None


def page(items: list[dict[str, Any]], p: Page[Any]) -> dict[str, Any]:
    return {"data": items, "next_cursor": p.next_cursor, "has_more": p.next_cursor is not None}


def account_out(a: Account) -> dict[str, Any]:
    return {"account_id": a.id, "object": "account", "name": a.name, "created_at": ts(a.created_at)}


def key_out(k: ApiKey, secret: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key_id": k.id,
        "object": "api_key",
        "name": k.name,
        "prefix": k.prefix,
        "created_at": ts(k.created_at),
        "revoked_at": ts(k.revoked_at),
    }
    if secret is not None:
        out["key"] = secret
    return out


def webhook_out(e: Endpoint, *, secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "webhook_id": e.id,
        "object": "webhook",
        "callback_url": e.url,
        "events": list(e.event_types) if e.event_types else ["*"],
        "active": e.status is EndpointStatus.ACTIVE,
        "status": e.status.value,
        "disabled_reason": e.disabled_reason,
        "description": e.description,
        "retry_policy": e.retry_policy,
        "signature": {"scheme": e.scheme.value, "header": e.signature_header},
        "headers": e.headers,
        "failure_count": e.failure_count,
        "last_failure_at": ts(e.last_failure_at),
        "created_at": ts(e.created_at),
        "updated_at": ts(e.updated_at),
    }
    if secret:
        out["secret"] = e.secret
    return out


def event_out(m: Message) -> dict[str, Any]:
    return {
        "event_id": m.id,
        "object": "event",
        "type": m.event_type,
        "data": orjson.Fragment(m.payload),
        "idempotency_key": m.idempotency_key,
        "created_at": ts(m.created_at),
    }


def attempt_out(a: Attempt) -> dict[str, Any]:
    return {
        "attempt_id": a.id,
        "created_at": ts(a.created_at),
        "trigger": a.trigger.value,
        "status_code": a.status_code,
        "response_body": a.response_body,
        "duration_ms": a.duration_ms,
        "error": a.error,
        "error_detail": a.error_detail,
    }


def delivery_out(d: Delivery, attempts: list[Attempt] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "delivery_id": d.id,
        "object": "delivery",
        "event_id": d.message_id,
        "webhook_id": d.endpoint_id,
        "status": d.status.value,
        "attempt_count": d.attempts,
        "next_attempt_at": ts(d.next_attempt_at),
        "last_attempt_at": ts(d.last_attempt_at),
        "last_status_code": d.last_status_code,
        "created_at": ts(d.created_at),
        "updated_at": ts(d.updated_at),
    }
    if attempts is not None:
        out["attempts"] = [attempt_out(a) for a in attempts]
    return out
