"""The catalog: owners manage their APIs; consumers browse public ones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hookline.api import shapes
from hookline.api.deps import AccountDep, Cursor, Limit, PrincipalDep, SystemDep
from hookline.api.gateway_responses import api_out
from hookline.api.gateway_schemas import ApiCreate, ApiUpdate
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON, page
from hookline.domain.gateway import Completion
from hookline.services.catalog import ApiSpec

router = APIRouter(route_class=GuardedRoute, prefix="/v1", tags=["gateway"])


@router.post("/apis", status_code=201, response_class=JSON, response_model=shapes.Api)
async def create_api(body: ApiCreate, account: AccountDep, sys: SystemDep) -> Any:
    """List an API. Consumers call it through ``POST /v1/calls``."""
    api = await sys.catalog.create(
        account,
        ApiSpec(
            name=body.name,
            description=body.description,
            upstream_url=body.upstream_url,
            completion=Completion(body.completion),
            timeout=body.timeout,
            price=body.price,
            public=body.public,
            max_concurrency=body.max_concurrency,
            idempotent=body.idempotent,
            test_calls=body.test_calls,
            retry_on=body.retry_on.model_dump() if body.retry_on is not None else None,
        ),
    )
    return JSON(api_out(api, owner=True), status_code=201)


@router.get("/apis", response_class=JSON, response_model=shapes.Page[shapes.Api])
async def list_apis(
    account: AccountDep, sys: SystemDep, cursor: Cursor = None, limit: Limit = 50
) -> Any:
    """The APIs this account owns."""
    p = await sys.catalog.list_owned(account, cursor, limit)
    return JSON(page([api_out(a, owner=True) for a in p.items], p))


@router.get("/apis/{api_id}", response_class=JSON, response_model=shapes.Api)
async def get_api(api_id: str, account: AccountDep, sys: SystemDep) -> Any:
    return JSON(api_out(await sys.catalog.get_owned(account, api_id), owner=True))


@router.patch("/apis/{api_id}", response_class=JSON, response_model=shapes.Api)
async def update_api(api_id: str, body: ApiUpdate, account: AccountDep, sys: SystemDep) -> Any:
    changes: dict[str, Any] = {}
    for field in body.model_fields_set:
        value = getattr(body, field)
        if value is None and field not in ("max_concurrency", "retry_on"):
            continue
        if field == "retry_on":
            value = value.model_dump() if value is not None else None
        changes[field] = Completion(value) if field == "completion" else value
    return JSON(api_out(await sys.catalog.update(account, api_id, changes), owner=True))


@router.delete("/apis/{api_id}", response_class=JSON, response_model=shapes.Api)
async def delete_api(api_id: str, account: AccountDep, sys: SystemDep) -> Any:
    """Remove from the catalog; queued calls are cancelled and their consumers told."""
    return JSON(api_out(await sys.catalog.delete(account, api_id), owner=True))


@router.post("/apis/{api_id}/pause", response_class=JSON, response_model=shapes.Api)
async def pause_api(api_id: str, account: AccountDep, sys: SystemDep) -> Any:
    """Refuse new calls (409 api_paused); queued calls wait for resume."""
    return JSON(api_out(await sys.catalog.set_paused(account, api_id, True), owner=True))


@router.post("/apis/{api_id}/resume", response_class=JSON, response_model=shapes.Api)
async def resume_api(api_id: str, account: AccountDep, sys: SystemDep) -> Any:
    return JSON(api_out(await sys.catalog.set_paused(account, api_id, False), owner=True))


@router.get("/catalog", response_class=JSON, response_model=shapes.Page[shapes.Api])
async def catalog(
    who: PrincipalDep,
    sys: SystemDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Any:
    """Public APIs open for calls, optionally those whose name or description contains
    ``q``. Upstream URLs are never shown here."""
    p = await sys.catalog.search(q, cursor, limit)
    return JSON(page([api_out(a, owner=False) for a in p.items], p))


@router.get("/catalog/{api_id}", response_class=JSON, response_model=shapes.Api)
async def catalog_entry(api_id: str, who: PrincipalDep, sys: SystemDep) -> Any:
    return JSON(api_out(await sys.catalog.get_public(api_id), owner=False))
