"""Chain event sources and the addresses they watch."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from hookline.api import responses as out
from hookline.api import shapes_catalog as shapes
from hookline.api.deps import AccountDep, Limit, SystemDep
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON
from hookline.api.shapes import Items, Page
from hookline.api.source_schemas import (
    AddressesAdd,
    SourceCreate,
    SourceUpdate,
    address_out,
    source_out,
)
from hookline.services.sources import SourceSpec

router = APIRouter(route_class=GuardedRoute, prefix="/v1/sources", tags=["sources"])


@router.post("", status_code=201, response_class=JSON, response_model=shapes.Source)
async def create_source(body: SourceCreate, account: AccountDep, sys: SystemDep) -> Any:
    """Follow a chain: the source starts at the current head (or ``start_block``)."""
    source = await sys.sources.create(
        account,
        SourceSpec(
            kind=body.kind,
            name=body.name,
            rpc_url=body.rpc_url,
            chain_id=body.chain_id,
            confirmations=body.confirmations,
            poll_interval=body.poll_interval,
            start_block=body.start_block,
        ),
    )
    return JSON(source_out(source), status_code=201)


@router.get("", response_class=JSON, response_model=Page[shapes.Source])
async def list_sources(
    account: AccountDep,
    sys: SystemDep,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
) -> Any:
    p = await sys.sources.list_page(account, cursor=cursor, limit=limit)
    return JSON(out.page([source_out(s) for s in p.items], p))


@router.get("/{source_id}", response_class=JSON, response_model=shapes.Source)
async def get_source(source_id: str, account: AccountDep, sys: SystemDep) -> Any:
    """The source with its health: head, last processed block, lag, last error."""
    return JSON(source_out(await sys.sources.get(account, source_id)))


@router.patch("/{source_id}", response_class=JSON, response_model=shapes.Source)
async def update_source(
    source_id: str, body: SourceUpdate, account: AccountDep, sys: SystemDep
) -> Any:
    """Change the fields given; ``"chain_id": null`` stops checking the chain id."""
    changes = {
        f: getattr(body, f)
        for f in body.model_fields_set
        if getattr(body, f) is not None or f == "chain_id"
    }
    return JSON(source_out(await sys.sources.update(account, source_id, changes)))


@router.delete("/{source_id}", status_code=204)
async def delete_source(source_id: str, account: AccountDep, sys: SystemDep) -> Response:
    """Stop following and forget the follow state; published events stay."""
    await sys.sources.delete(account, source_id)
    return Response(status_code=204)


@router.post("/{source_id}/pause", response_class=JSON, response_model=shapes.Source)
async def pause_source(source_id: str, account: AccountDep, sys: SystemDep) -> Any:
    return JSON(source_out(await sys.sources.set_active(account, source_id, False)))


@router.post("/{source_id}/resume", response_class=JSON, response_model=shapes.Source)
async def resume_source(source_id: str, account: AccountDep, sys: SystemDep) -> Any:
    """Follow again from the cursor: blocks mined while paused are caught up."""
    return JSON(source_out(await sys.sources.set_active(account, source_id, True)))


@router.post(
    "/{source_id}/addresses",
    status_code=201,
    response_class=JSON,
    response_model=Items[shapes.SourceAddress],
)
async def add_addresses(
    source_id: str, body: AddressesAdd, account: AccountDep, sys: SystemDep
) -> Any:
    """Watch one address or many (checksummed or not); already watched ones are kept."""
    source = await sys.sources.get(account, source_id)
    added = await sys.sources.add_addresses(account, source_id, body.entries())
    items = [address_out(a, sys.sources.display_address(source, a.address)) for a in added]
    return JSON({"data": items}, status_code=201)


@router.get(
    "/{source_id}/addresses", response_class=JSON, response_model=Page[shapes.SourceAddress]
)
async def list_addresses(
    source_id: str,
    account: AccountDep,
    sys: SystemDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 100,
) -> Any:
    source = await sys.sources.get(account, source_id)
    items, more = await sys.sources.list_addresses(account, source_id, after=cursor, limit=limit)
    return JSON(
        {
            "data": [address_out(a, sys.sources.display_address(source, a.address)) for a in items],
            "next_cursor": more,
            "has_more": more is not None,
        }
    )


@router.delete("/{source_id}/addresses/{address}", status_code=204)
async def remove_address(
    source_id: str, address: str, account: AccountDep, sys: SystemDep
) -> Response:
    await sys.sources.remove_address(account, source_id, address)
    return Response(status_code=204)
