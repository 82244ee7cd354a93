"""``/api/v1/event-type``: the same catalog as ``/v1/event-types``.

Svix keeps schemas by version (``{"1": {...}}``); Hookline keeps one schema per type,
shown and set as version ``"1"``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from hookline.api.deps import AccountDep, SystemDep
from hookline.api.responses import JSON
from hookline.api.svix import wire
from hookline.domain.models import EventType
from hookline.errors import NotFound

router = wire.router("/event-type")


class EventTypeIn(wire.Camel):
    name: str
    description: str = ""
    archived: bool | None = None
    deprecated: bool | None = None
    schemas: dict[str, Any] | None = None


class EventTypePatch(wire.Camel):
    description: str | None = None
    archived: bool | None = None
    deprecated: bool | None = None
    schemas: dict[str, Any] | None = None


def _schema(schemas: dict[str, Any] | None) -> Any:
    if not schemas:
        return None
    if set(schemas) != {"1"}:
        raise wire.unsupported('schema versions other than "1"')
    return schemas["1"]


def event_type_out(et: EventType) -> dict[str, Any]:
    return {
        "name": et.name,
        "description": et.description,
        "archived": et.archived_at is not None,
        "deprecated": False,
        "schemas": {"1": et.schema} if et.schema is not None else None,
        "createdAt": wire.when(et.created_at),
        "updatedAt": wire.when(et.updated_at),
    }


@router.get("")
async def list_event_types(
    account: AccountDep,
    sys: SystemDep,
    limit: wire.Limit = 50,
    iterator: wire.Iterator = None,
    include_archived: bool = False,
) -> Response:
    p = await sys.event_types.list_page(
        account, prefix=None, include_archived=include_archived, cursor=iterator, limit=limit
    )
    return wire.listing(p.items, p, event_type_out)


@router.post("")
async def create_event_type(body: EventTypeIn, account: AccountDep, sys: SystemDep) -> Response:
    et = await sys.event_types.create(
        account, body.name, description=body.description, schema=_schema(body.schemas)
    )
    if body.archived:
        et = await sys.event_types.archive(account, et.name)
    return JSON(event_type_out(et), status_code=201)


@router.get("/{name}")
async def get_event_type(name: str, account: AccountDep, sys: SystemDep) -> Response:
    return JSON(event_type_out(await sys.event_types.get(account, name)))


@router.put("/{name}")
async def upsert_event_type(
    name: str, body: EventTypePatch, account: AccountDep, sys: SystemDep
) -> Response:
    try:
        await sys.event_types.get(account, name)
    except NotFound:
        et = await sys.event_types.create(
            account, name, description=body.description or "", schema=_schema(body.schemas)
        )
        return JSON(event_type_out(et), status_code=201)
    return await patch_event_type(name, body, account, sys)


@router.patch("/{name}")
async def patch_event_type(
    name: str, body: EventTypePatch, account: AccountDep, sys: SystemDep
) -> Response:
    changes: dict[str, Any] = {}
    if "description" in body.model_fields_set:
        changes["description"] = body.description or ""
    if "schemas" in body.model_fields_set:
        changes["schema"] = _schema(body.schemas)
    if body.archived is not None:
        changes["archived"] = body.archived
    return JSON(event_type_out(await sys.event_types.update(account, name, changes)))


@router.delete("/{name}", status_code=204)
async def archive_event_type(
    name: str, account: AccountDep, sys: SystemDep, expunge: bool = False
) -> Response:
    """Archive (Svix's delete): the type stays readable and refuses new messages."""
    if expunge:
        raise wire.unsupported("expunging an event type")
    await sys.event_types.archive(account, name)
    return wire.no_content()
