"""``/api/v1/app/{app}/msg``: Svix messages are Hookline events of one application.

A message's ``eventId`` is kept as the event's idempotency key (scoped to the
application), so a repeated ``eventId`` is refused with 409 inside the publish
transaction, race-free, for as long as idempotency keys live (24 h by default).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import Query
from starlette.responses import Response

from hookline.api.deps import AccountDep, SystemDep
from hookline.api.responses import JSON
from hookline.api.svix import wire
from hookline.domain.models import Message
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.services.events import EventInput
from hookline.store.messages import MessageFilters
from hookline.system import System

router = wire.router("/app/{app_id}/msg")
EVENT_ID_KEY = "svix:{app}:{event_id}"
MAX_EVENT_ID = 200


class NewApplication(wire.Camel):
    name: str
    uid: str | None = None
    metadata: dict[str, str] | None = None


class MessageIn(wire.Camel):
    event_type: str
    payload: dict[str, Any]
    event_id: str | None = None
    channels: list[str] | None = None
    tags: list[str] | None = None
    application: NewApplication | None = None
    deliver_at: datetime | None = None


def event_id_of(m: Message) -> str | None:
    prefix = EVENT_ID_KEY.format(app=m.app_id, event_id="")
    key = m.idempotency_key
    return key[len(prefix) :] if key is not None and key.startswith(prefix) else None


def message_out(m: Message, *, with_content: bool) -> dict[str, Any]:
    return {
        "id": m.id,
        "eventId": event_id_of(m),
        "eventType": m.event_type,
        "payload": orjson.Fragment(m.payload) if with_content else {},
        "channels": list(m.channels) if m.channels is not None else None,
        "tags": list(m.tags) if m.tags is not None else None,
        "timestamp": wire.when(m.created_at),
    }


async def message_of(sys: System, account: str, app_id: str, msg_id: str) -> Message:
    """A message of this application, or 404."""
    app = await sys.applications.get(account, app_id)
    detail = await sys.events.get(account, msg_id)
    if detail.message.app_id != app.id:
        raise NotFound("message")
    return detail.message


@router.post("", status_code=202)
async def create_message(
    app_id: str,
    body: MessageIn,
    account: AccountDep,
    sys: SystemDep,
    with_content: bool = True,
) -> Response:
    """Publish to the application's endpoints; an ``application`` in the body creates
    the application (with this path's uid) when it does not exist."""
    try:
        app = await sys.applications.get(account, app_id)
    except NotFound:
        if body.application is None:
            raise
        app = await sys.applications.create(
            account,
            name=body.application.name,
            uid=body.application.uid or app_id,
            metadata=body.application.metadata,
        )
    key = None
    if body.event_id is not None:
        if not 1 <= len(body.event_id) <= MAX_EVENT_ID:
            raise InvalidInput(
                f"eventId must be 1 to {MAX_EVENT_ID} characters", code="invalid_event_id"
            )
        key = EVENT_ID_KEY.format(app=app.id, event_id=body.event_id)
    (published,) = await sys.events.publish_batch(
        account,
        [
            EventInput(
                body.event_type,
                orjson.dumps(body.payload).decode(),
                key,
                body.payload,
                True,
                deliver_at=body.deliver_at,
            )
        ],
        app_id=app.id,
        channels=body.channels,
        tags=body.tags,
    )
    if not published.created:
        raise Conflict(f"a message with eventId {body.event_id!r} exists", code="conflict")
    sys.metrics.events_published.inc()
    sys.metrics.deliveries_created.inc(published.deliveries)
    return JSON(message_out(published.message, with_content=with_content), status_code=202)


@router.get("")
async def list_messages(
    app_id: str,
    account: AccountDep,
    sys: SystemDep,
    limit: wire.Limit = 50,
    iterator: wire.Iterator = None,
    channel: Annotated[str | None, Query(max_length=128)] = None,
    tag: Annotated[str | None, Query(max_length=128)] = None,
    before: datetime | None = None,
    after: datetime | None = None,
    event_types: Annotated[str | None, Query(max_length=4096)] = None,
    with_content: bool = True,
) -> Response:
    app = await sys.applications.get(account, app_id)
    filters = MessageFilters(
        event_types=tuple(t for t in (event_types or "").split(",") if t),
        channel=channel,
        tag=tag,
        before=before,
        after=after,
    )
    p = await sys.events.list_page(
        account, event_type=None, cursor=iterator, limit=limit, app_id=app.id, filters=filters
    )
    return wire.listing(p.items, p, lambda m: message_out(m, with_content=with_content))


@router.get("/{msg_id}")
async def get_message(
    app_id: str, msg_id: str, account: AccountDep, sys: SystemDep, with_content: bool = True
) -> Response:
    message = await message_of(sys, account, app_id, msg_id)
    return JSON(message_out(message, with_content=with_content))
