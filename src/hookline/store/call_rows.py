"""Calls as rows: conversion both ways, and reading one inside a transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.domain.calls import DEFAULT_WEBHOOK_EVENTS
from hookline.domain.gateway import Call, CallStatus, UpstreamAttempt
from hookline.store.tables import calls

QUEUED = CallStatus.QUEUED.value
RUNNING = CallStatus.RUNNING.value


def to_json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def from_json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def call_from_row(row: Any) -> Call:
    return Call(
        id=row.id,
        consumer_id=row.consumer_id,
        api_id=row.api_id,
        owner_id=row.owner_id,
        method=row.method,
        path=row.path,
        params=from_json(row.params),
        body=from_json(row.body),
        webhook_url=row.webhook_url,
        endpoint_id=row.endpoint_id,
        progress_updates=bool(row.progress_updates),
        idempotency_key=row.idempotency_key,
        test=bool(row.test),
        price=int(row.price),
        cost=int(row.cost),
        timeout=float(row.timeout),
        status=CallStatus(row.status),
        attempts=int(row.attempts),
        deadline=row.deadline,
        callback_base=row.callback_base,
        progress=from_json(row.progress),
        result_status_code=row.result_status_code,
        result_body=from_json(row.result_body),
        error=row.error,
        error_detail=row.error_detail,
        created_at=row.created_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
        updated_at=row.updated_at,
        awaiting_callback=row.status == RUNNING and row.lease_owner is None,
        cancel_at=row.cancel_at,
        webhook_events=tuple(row.webhook_events.split(","))
        if row.webhook_events is not None
        else DEFAULT_WEBHOOK_EVENTS,
        upstream_attempts=attempts_from_json(row.upstream_attempts),
        result_expunged_at=row.result_expunged_at,
    )


def attempts_from_json(text: str | None) -> tuple[UpstreamAttempt, ...]:
    if text is None:
        return ()
    return tuple(
        UpstreamAttempt(
            a["status_code"], a["error"], a["duration_ms"], datetime.fromisoformat(a["at"])
        )
        for a in orjson.loads(text)
    )


def attempts_to_json(attempts: tuple[UpstreamAttempt, ...]) -> str | None:
    if not attempts:
        return None
    return orjson.dumps(
        [
            {
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
                "at": a.at.isoformat(),
            }
            for a in attempts
        ]
    ).decode()


def call_values(c: Call) -> dict[str, Any]:
    return {
        "id": c.id,
        "consumer_id": c.consumer_id,
        "api_id": c.api_id,
        "owner_id": c.owner_id,
        "method": c.method,
        "path": c.path,
        "params": to_json(c.params),
        "body": to_json(c.body),
        "webhook_url": c.webhook_url,
        "endpoint_id": c.endpoint_id,
        "progress_updates": c.progress_updates,
        "idempotency_key": c.idempotency_key,
        "test": c.test,
        "price": c.price,
        "cost": c.cost,
        "timeout": c.timeout,
        "status": c.status.value,
        "attempts": c.attempts,
        "lease_owner": None,
        "lease_expires_at": None,
        "deadline": c.deadline,
        "callback_base": c.callback_base,
        "callback_token_hash": None,
        "progress": to_json(c.progress),
        "result_status_code": c.result_status_code,
        "result_body": to_json(c.result_body),
        "error": c.error,
        "error_detail": c.error_detail,
        "created_at": c.created_at,
        "started_at": c.started_at,
        "completed_at": c.completed_at,
        "updated_at": c.updated_at,
        "cancel_at": c.cancel_at,
        "webhook_events": ",".join(c.webhook_events),
        "progress_sent_at": None,
        "upstream_attempts": attempts_to_json(c.upstream_attempts),
        "result_expunged_at": c.result_expunged_at,
    }


async def load_call(
    conn: AsyncConnection, call_id: str, consumer_id: str | None = None
) -> Call | None:
    stmt = sa.select(calls).where(calls.c.id == call_id)
    if consumer_id is not None:
        stmt = stmt.where(calls.c.consumer_id == consumer_id)
    row = (await conn.execute(stmt)).first()
    return call_from_row(row) if row else None
