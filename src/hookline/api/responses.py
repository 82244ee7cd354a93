"""JSON rendering with orjson, and the public shapes of domain objects."""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from typing import Any

import orjson
from starlette.responses import JSONResponse

from hookline.domain.envelope import format_time
from hookline.domain.models import (
    MASK,
    Account,
    ApiKey,
    Application,
    Attempt,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointStatus,
    EventType,
    Message,
    Page,
)
from hookline.domain.search import RequeueJob, WebhookStats
from hookline.domain.signing import key_type, public_key

log = logging.getLogger("hookline.api")


class JSON(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, default=_default)
        except orjson.JSONEncodeError:
            # A value stored before today's input limits (a lone surrogate, say) must not
            # make a read or a list fail: answer with it made valid rather than not at all.
            log.warning("a response held a value JSON cannot encode; answered it repaired")
            return orjson.dumps(_repaired(content), default=_default)


def _repaired(value: Any) -> Any:
    """``value`` with every string made valid Unicode (lone surrogates become U+FFFD) and
    integers beyond 64 bits written as strings."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_repaired(k): _repaired(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_repaired(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 63:
        return str(value)
    return value


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


def secret_out(e: Endpoint) -> dict[str, Any]:
    """A webhook's current secret, its kind, and the public key of an Ed25519 one."""
    return {
        "webhook_id": e.id,
        "secret": e.secret,
        "key_type": key_type(e.secret, e.scheme).value,
        "public_key": public_key(e.secret, e.scheme),
    }


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
        "signature": {
            "scheme": e.scheme.value,
            "header": e.signature_header,
            "key_type": key_type(e.secret, e.scheme).value,
            "public_key": public_key(e.secret, e.scheme),
        },
        "headers": e.masked_headers(),
        "secret_headers": list(e.secret_headers),
        "rules": list(e.rules) if e.rules is not None else [],
        "mode": e.mode.value,
        "application_id": e.app_id,
        "payload_format": e.payload_format.value,
        "failure_count": e.failure_count,
        "last_failure_at": ts(e.last_failure_at),
        "created_at": ts(e.created_at),
        "updated_at": ts(e.updated_at),
        "send_traceparent": e.send_traceparent,
        "rate_limit": e.rate_limit,
        "ordering": e.ordering.value,
        "timeout": e.timeout,
        "circuit": e.circuit.value,
    }
    if secret:
        out["secret"] = e.secret
    return out


def application_out(a: Application) -> dict[str, Any]:
    return {
        "application_id": a.id,
        "object": "application",
        "uid": a.uid,
        "name": a.name,
        "metadata": a.metadata,
        "rate_limit": a.rate_limit,
        "created_at": ts(a.created_at),
        "updated_at": ts(a.updated_at),
    }


def event_out(m: Message) -> dict[str, Any]:
    return {
        "event_id": m.id,
        "object": "event",
        "type": m.event_type,
        "data": orjson.Fragment(m.payload),
        "idempotency_key": m.idempotency_key,
        "created_at": ts(m.created_at),
        "deliver_at": ts(m.deliver_at),
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
        "event_type": d.event_type,
        "webhook_id": d.endpoint_id,
        "status": d.status.value,
        "test": d.test,
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


def attempt_detail(a: Attempt, endpoint: Endpoint) -> dict[str, Any]:
    """One attempt with the exact request it sent (secret custom headers masked) and
    the response it got."""
    secret = {n.lower() for n in endpoint.secret_headers}
    request: dict[str, Any] | None = None
    if a.request is not None:
        request = {
            "method": a.request.method,
            "url": a.request.url,
            "headers": [[k, MASK if k.lower() in secret else v] for k, v in a.request.headers],
            "body": a.request.body.decode("utf-8", errors="replace"),
            "body_base64": base64.b64encode(a.request.body).decode(),
        }
    return attempt_out(a) | {
        "object": "attempt",
        "delivery_id": a.delivery_id,
        "webhook_id": a.endpoint_id,
        "event_id": a.message_id,
        "request": request,
        "response": {
            "status_code": a.status_code,
            "headers": [list(h) for h in a.response_headers] if a.response_headers else None,
            "body": a.response_body,
        }
        if a.status_code is not None
        else None,
    }


def requeue_out(job: RequeueJob) -> dict[str, Any]:
    return {
        "requeue_id": job.id,
        "object": "requeue",
        "status": job.status,
        "queued": job.expected,
        "done": job.queued,
        "filters": job.filter.to_document(),
        "created_at": ts(job.created_at),
        "finished_at": ts(job.finished_at),
    }


def stats_out(
    webhook_id: str, since: datetime | None, s: WebhookStats, head: Delivery | None = None
) -> dict[str, Any]:
    counts = {status.value: s.counts.get(status.value, 0) for status in DeliveryStatus}
    finished = counts["succeeded"] + counts["failed"]
    return {
        "webhook_id": webhook_id,
        "object": "webhook_stats",
        "since": ts(since),
        "counts": counts,
        "total": sum(counts.values()),
        "success_rate": round(counts["succeeded"] / finished, 4) if finished else None,
        "response_time_ms": {"p50": s.p50_ms, "p95": s.p95_ms, "attempts": s.attempts},
        "head_of_line": delivery_out(head) if head is not None else None,
    }


def event_type_out(t: EventType) -> dict[str, Any]:
    return {
        "name": t.name,
        "object": "event_type",
        "description": t.description,
        "schema": t.schema,
        "example": t.example,
        "archived": t.archived_at is not None,
        "archived_at": ts(t.archived_at),
        "version": t.version,
        "created_at": ts(t.created_at),
        "updated_at": ts(t.updated_at),
    }
