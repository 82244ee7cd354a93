"""The event catalog: event types with optional JSON Schemas and examples."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hookline.api import responses as out
from hookline.api import shapes_catalog as shapes
from hookline.api.deps import AccountDep, Cursor, Limit, SystemDep
from hookline.api.openapi import errors
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON
from hookline.api.schemas import EventTypeCreate, EventTypeUpdate
from hookline.api.shapes import Page

router = APIRouter(route_class=GuardedRoute, prefix="/v1/event-types", tags=["event types"])


@router.post(
    "",
    status_code=201,
    response_class=JSON,
    response_model=shapes.EventType,
    responses=errors(409),
)
async def create_event_type(body: EventTypeCreate, account: AccountDep, sys: SystemDep) -> Any:
    """Register a type. A schema (JSON Schema draft 2020-12) is checked now, and the
    example must match it; from then on, events of this type must match it too."""
    et = await sys.event_types.create(
        account, body.name, description=body.description, schema=body.schema_, example=body.example
    )
    return JSON(out.event_type_out(et), status_code=201)


@router.get("", response_class=JSON, response_model=Page[shapes.EventType])
async def list_event_types(
    account: AccountDep,
    sys: SystemDep,
    prefix: Annotated[str | None, Query(max_length=255)] = None,
    include_archived: bool = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Any:
    p = await sys.event_types.list_page(
        account, prefix=prefix, include_archived=include_archived, cursor=cursor, limit=limit
    )
    return JSON(out.page([out.event_type_out(t) for t in p.items], p))


@router.get("/{name}", response_class=JSON, response_model=shapes.EventType)
async def get_event_type(name: str, account: AccountDep, sys: SystemDep) -> Any:
    return JSON(out.event_type_out(await sys.event_types.get(account, name)))


@router.patch(
    "/{name}", response_class=JSON, response_model=shapes.EventType, responses=errors(409)
)
async def update_event_type(
    name: str, body: EventTypeUpdate, account: AccountDep, sys: SystemDep
) -> Any:
    """Change the fields given; ``"schema": null`` removes the schema, ``"archived":
    false`` brings an archived type back."""
    changes = {("schema" if f == "schema_" else f): getattr(body, f) for f in body.model_fields_set}
    if changes.get("archived", False) is None:
        changes.pop("archived")
    return JSON(out.event_type_out(await sys.event_types.update(account, name, changes)))


@router.delete(
    "/{name}", response_class=JSON, response_model=shapes.EventType, responses=errors(409)
)
async def archive_event_type(name: str, account: AccountDep, sys: SystemDep) -> Any:
    """Archive: the entry stays readable, new events of this type are refused."""
    return JSON(out.event_type_out(await sys.event_types.archive(account, name)))
