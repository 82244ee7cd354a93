"""Applications: groups of webhooks that events are published to, by id or uid."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hookline.api import responses as out
from hookline.api import shapes
from hookline.api.deps import AccountDep, Cursor, Limit, SystemDep
from hookline.api.openapi import errors
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON
from hookline.api.schemas import ApplicationCreate, ApplicationUpdate

router = APIRouter(route_class=GuardedRoute, prefix="/v1/applications", tags=["applications"])


@router.post(
    "",
    status_code=201,
    response_class=JSON,
    response_model=shapes.Application,
    responses=errors(409),
)
async def create_application(body: ApplicationCreate, account: AccountDep, sys: SystemDep) -> Any:
    """Create an application; ``uid`` (unique in the account) can stand for its id."""
    app = await sys.applications.create(
        account, name=body.name, uid=body.uid, metadata=body.metadata, rate_limit=body.rate_limit
    )
    return JSON(out.application_out(app), status_code=201)


@router.get("", response_class=JSON, response_model=shapes.Page[shapes.Application])
async def list_applications(
    account: AccountDep, sys: SystemDep, cursor: Cursor = None, limit: Limit = 50
) -> Any:
    p = await sys.applications.list_page(account, cursor=cursor, limit=limit)
    return JSON(out.page([out.application_out(a) for a in p.items], p))


@router.get("/{application}", response_class=JSON, response_model=shapes.Application)
async def get_application(application: str, account: AccountDep, sys: SystemDep) -> Any:
    return JSON(out.application_out(await sys.applications.get(account, application)))


@router.patch(
    "/{application}",
    response_class=JSON,
    response_model=shapes.Application,
    responses=errors(409),
)
async def update_application(
    application: str, body: ApplicationUpdate, account: AccountDep, sys: SystemDep
) -> Any:
    changes = {f: getattr(body, f) for f in body.model_fields_set}
    return JSON(out.application_out(await sys.applications.update(account, application, changes)))


@router.delete(
    "/{application}",
    response_class=JSON,
    response_model=shapes.Application,
    responses=errors(409),
)
async def delete_application(application: str, account: AccountDep, sys: SystemDep) -> Any:
    """Delete an application and its webhooks (their queued deliveries are cancelled);
    the default application cannot be deleted."""
    return JSON(out.application_out(await sys.applications.delete(account, application)))
