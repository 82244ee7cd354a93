"""The statements that record attempt outcomes (used by ``DeliveryRepository.record``):
moving deliveries on, the attempts with their exact requests, request bodies stored
once, and disabling webhooks."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hookline.domain import operational
from hookline.domain.dispatch import Outcome
from hookline.domain.models import DeliveryStatus, EndpointStatus, Trigger
from hookline.store.tables import deliveries, endpoints, request_bodies

SENDING = DeliveryStatus.SENDING.value


def insert_missing_bodies(is_sqlite: bool) -> Any:
    """INSERT of request bodies that skips those already stored (same SHA-256)."""
    insert = sqlite_insert if is_sqlite else pg_insert
    return insert(request_bodies).on_conflict_do_nothing(index_elements=[request_bodies.c.sha256])


async def disable(
    conn: Any,
    ids: set[str],
    reason: str,
    now: datetime,
    extra: sa.ColumnElement[bool] | None = None,
) -> list[operational.OperationalEvent]:
    """Disable those of ``ids`` still active; one ``webhook.disabled`` event each."""
    if not ids:
        return []
    stmt = endpoints.update().where(
        endpoints.c.id.in_(ids), endpoints.c.status == EndpointStatus.ACTIVE.value
    )
    if extra is not None:
        stmt = stmt.where(extra)
    rows = await conn.execute(
        stmt.values(
            status=EndpointStatus.DISABLED.value, disabled_reason=reason, updated_at=now
        ).returning(endpoints.c.id, endpoints.c.account_id, endpoints.c.app_id, endpoints.c.url)
    )
    return [
        operational.webhook_disabled(r.account_id, r.app_id, r.id, r.url, reason, now) for r in rows
    ]


MOVE = (
    deliveries.update()
    .where(
        deliveries.c.id == sa.bindparam("b_id"),
        deliveries.c.lease_owner == sa.bindparam("b_owner"),
        deliveries.c.status == SENDING,
    )
    .values(
        status=sa.bindparam("b_status"),
        attempts=deliveries.c.attempts + 1,
        next_attempt_at=sa.bindparam("b_next"),
        trigger=Trigger.SCHEDULED.value,
        lease_owner=None,
        lease_expires_at=None,
        last_attempt_at=sa.bindparam("b_last"),
        last_status_code=sa.bindparam("b_code"),
        updated_at=sa.bindparam("b_now"),
    )
)


def move_values(o: Outcome, owner: str, now: datetime) -> dict[str, Any]:
    return {
        "b_id": o.delivery_id,
        "b_owner": owner,
        "b_status": o.decision.status.value,
        "b_next": o.decision.next_attempt_at,
        "b_last": o.result.started_at,
        "b_code": o.result.status_code,
        "b_now": now,
    }


def attempt_rows(
    outcomes: Sequence[Outcome], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The attempts to insert, and the request bodies they point to (each body once,
    by its SHA-256, hashed once)."""
    bodies: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for o in outcomes:
        req = o.result.request
        digest = None
        if req is not None:
            digest = hashlib.sha256(req.body).hexdigest()
            bodies[digest] = {
                "sha256": digest,
                "body": req.body,
                "size": len(req.body),
                "created_at": now,
            }
        rows.append(attempt_values(o, digest))
    return rows, list(bodies.values())


def attempt_values(o: Outcome, body_sha256: str | None) -> dict[str, Any]:
    r = o.result
    req = r.request
    return {
        "request_method": req.method if req else None,
        "request_url": req.url if req else None,
        "request_headers": [list(h) for h in req.headers] if req else None,
        "request_body_sha256": body_sha256,
        "response_headers": [list(h) for h in r.response_headers]
        if r.response_headers is not None
        else None,
        "id": o.attempt_id,
        "delivery_id": o.delivery_id,
        "endpoint_id": o.endpoint_id,
        "message_id": o.message_id,
        "created_at": r.started_at,
        "trigger": o.trigger.value,
        "status_code": r.status_code,
        "response_body": r.response_body,
        "duration_ms": r.duration_ms,
        "error": r.error,
        "error_detail": r.error_detail,
    }
