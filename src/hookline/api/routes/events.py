"""Publishing events, reading them, and delivery logs and retries."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query
from starlette.responses import Response

from hookline.api import responses as out
from hookline.api import shapes
from hookline.api.deps import AccountDep, Cursor, Limit, SystemDep
from hookline.api.openapi import errors
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON
from hookline.api.schemas import EventBatch, EventCreate
from hookline.domain.models import Published
from hookline.errors import InvalidInput
from hookline.services.events import EventInput
from hookline.system import System

router = APIRouter(route_class=GuardedRoute, prefix="/v1", tags=["events"])


@router.post(
    "/events",
    status_code=202,
    response_class=JSON,
    response_model=shapes.Published,
    responses=errors(404),
)
async def publish_event(
    body: EventCreate,
    account: AccountDep,
    sys: SystemDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> Any:
    """Accept an event. The 202 comes after the event and all its deliveries are
    committed; the same idempotency key within 24 h returns the first event."""
    return await publish_one(sys, account, body, idempotency_key)


async def publish_one(
    sys: System, account: str, body: EventCreate, idempotency_key: str | None
) -> Response:
    """What ``POST /v1/events`` does once its input is read and checked, shared with the
    publish lane (:mod:`hookline.api.publish_lane`) that serves the route's valid
    requests in front of the framework."""
    (published,) = await sys.events.publish_batch(
        account,
        [
            EventInput(
                body.type,
                orjson.dumps(body.data).decode(),
                body.idempotency_key or idempotency_key,
                data=body.data,
                has_data=True,
                deliver_at=body.deliver_at,
            )
        ],
        app_id=await sys.applications.app_id(account, body.application)
        if body.application
        else None,
    )
    if published.created:
        sys.metrics.events_published.inc()
        sys.metrics.deliveries_created.inc(published.deliveries)
    return JSON(_published_out(published), status_code=202)


@router.post(
    "/events/batch",
    status_code=202,
    response_class=JSON,
    response_model=shapes.Items[shapes.Published],
    responses=errors(404),
)
async def publish_events(body: EventBatch, account: AccountDep, sys: SystemDep) -> Any:
    """Accept up to 500 events in one transaction: all of them, or none. They go to one
    application: the one they all name, or the default one."""
    named = {e.application for e in body.events}
    if len(named) > 1:
        raise InvalidInput("the events of a batch go to one application", code="invalid_batch")
    (application,) = named
    published = await sys.events.publish_batch(
        account,
        [
            EventInput(
                e.type,
                orjson.dumps(e.data).decode(),
                e.idempotency_key,
                data=e.data,
                has_data=True,
                deliver_at=e.deliver_at,
            )
            for e in body.events
        ],
        app_id=await sys.applications.app_id(account, application) if application else None,
    )
    created = [p for p in published if p.created]
    sys.metrics.events_published.inc(len(created))
    sys.metrics.deliveries_created.inc(sum(p.deliveries for p in created))
    return JSON({"data": [_published_out(p) for p in published]}, status_code=202)


def _published_out(p: Published) -> dict[str, Any]:
    return {
        "event_id": p.message.id,
        "deliveries": p.deliveries,
        "held": p.held,
        "created_at": out.ts(p.message.created_at),
        "duplicate": not p.created,
    }


@router.get("/events", response_class=JSON, response_model=shapes.Page[shapes.Event])
async def list_events(
    account: AccountDep,
    sys: SystemDep,
    type: Annotated[str | None, Query(max_length=255)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Any:
    p = await sys.events.list_page(account, event_type=type, cursor=cursor, limit=limit)
    return JSON(out.page([out.event_out(m) for m in p.items], p))


@router.get("/events/{event_id}", response_class=JSON, response_model=shapes.EventDetail)
async def get_event(event_id: str, account: AccountDep, sys: SystemDep) -> Any:
    detail = await sys.events.get(account, event_id)
    return JSON(
        out.event_out(detail.message)
        | {"deliveries": [out.delivery_out(d, detail.attempts[d.id]) for d in detail.deliveries]}
    )


@router.get("/deliveries/{delivery_id}", response_class=JSON, response_model=shapes.Delivery)
async def get_delivery(delivery_id: str, account: AccountDep, sys: SystemDep) -> Any:
    delivery, attempts = await sys.deliveries.get(account, delivery_id)
    return JSON(out.delivery_out(delivery, attempts))


@router.post(
    "/deliveries/{delivery_id}/retry",
    status_code=202,
    response_class=JSON,
    response_model=shapes.Delivery,
    responses=errors(409),
)
async def retry_delivery(delivery_id: str, account: AccountDep, sys: SystemDep) -> Any:
    """Send a finished delivery again now (one manual attempt)."""
    delivery = await sys.deliveries.retry(account, delivery_id)
    return JSON(out.delivery_out(delivery), status_code=202)
