"""The public shapes of gateway objects. The upstream URL appears only for owners."""

from __future__ import annotations

from typing import Any

from hookline.api.responses import ts
from hookline.domain.gateway import Api, Call, LedgerEntry, UsageRow, Wallet
from hookline.domain.models import Delivery


def api_out(a: Api, *, owner: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "api_id": a.id,
        "object": "api",
        "name": a.name,
        "description": a.description,
        "completion": a.completion.value,
        "timeout": a.timeout,
        "price": a.price,
        "max_concurrency": a.max_concurrency,
        "test_calls": a.test_calls,
        "retry_on": (
            {
                "statuses": list(a.retry_on.statuses),
                "backoff": a.retry_on.backoff,
                "max_attempts": a.retry_on.max_attempts,
            }
            if a.retry_on is not None
            else None
        ),
        "created_at": ts(a.created_at),
    }
    if owner:
        out |= {
            "upstream_url": a.upstream_url,
            "public": a.public,
            "idempotent": a.idempotent,
            "status": a.status.value,
            "updated_at": ts(a.updated_at),
        }
    else:
        out["owner_id"] = a.owner_id
    return out


def call_out(
    c: Call,
    base_url: str,
    deliveries: list[tuple[str, Delivery]] | None = None,
    *,
    queue_position: int | None = None,
) -> dict[str, Any]:
    status_url = f"{base_url}/v1/calls/{c.id}"
    out: dict[str, Any] = {
        "request_id": c.id,
        "object": "call",
        "api_id": c.api_id,
        "status": c.status.value,
        "method": c.method,
        "path": c.path,
        "webhook_url": c.webhook_url,
        "test": c.test,
        "price": c.price,
        "cost": c.cost,
        "timeout": c.timeout,
        "runs": c.attempts,
        "attempts": [
            {
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
                "at": ts(a.at),
            }
            for a in c.upstream_attempts
        ],
        "queue_position": queue_position,
        "cancel_at": ts(c.cancel_at),
        "webhook_events": list(c.webhook_events),
        "result_expunged_at": ts(c.result_expunged_at),
        "events_url": f"{status_url}/events",
        "awaiting_callback": c.awaiting_callback,
        "progress": c.progress,
        "result": (
            {"status_code": c.result_status_code, "body": c.result_body}
            if c.result_status_code is not None
            else None
        ),
        "error": {"code": c.error, "message": c.error_detail} if c.error else None,
        "idempotency_key": c.idempotency_key,
        "status_url": status_url,
        "cancel_url": f"{status_url}/cancel",
        "created_at": ts(c.created_at),
        "started_at": ts(c.started_at),
        "completed_at": ts(c.completed_at),
    }
    if deliveries is not None:
        out["deliveries"] = [
            {
                "delivery_id": d.id,
                "type": event_type,
                "status": d.status.value,
                "attempt_count": d.attempts,
                "last_status_code": d.last_status_code,
            }
            for event_type, d in deliveries
        ]
    return out


def wallet_out(w: Wallet) -> dict[str, Any]:
    return {
        "account_id": w.account_id,
        "object": "balance",
        "balance": w.balance,
        "reserved": w.reserved,
        "unit": "minor",
        "updated_at": ts(w.updated_at),
    }


def entry_out(e: LedgerEntry) -> dict[str, Any]:
    return {
        "entry_id": e.id,
        "object": "ledger_entry",
        "account_id": e.account_id,
        "settlement_id": e.settlement_id,
        "kind": e.kind.value,
        "amount": e.amount,
        "call_id": e.call_id,
        "api_id": e.api_id,
        "note": e.note,
        "created_at": ts(e.created_at),
    }


def usage_out(u: UsageRow) -> dict[str, Any]:
    return {
        "api_id": u.api_id,
        "period": u.period,
        "calls": u.calls,
        "succeeded": u.succeeded,
        "failed": u.failed,
        "test_calls": u.test_calls,
        "amount": u.amount,
    }
