"""``/api/v1/app``: Svix applications over Hookline's applications."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from hookline.api.deps import AccountDep, SystemDep
from hookline.api.responses import JSON
from hookline.api.svix import wire
from hookline.domain.models import Application
from hookline.errors import NotFound

router = wire.router("/app")


class ApplicationIn(wire.Camel):
    name: str
    uid: str | None = None
    metadata: dict[str, str] | None = None
    throttle_rate: int | None = None
    rate_limit: int | None = None  # the older name of throttleRate


class ApplicationPatch(wire.Camel):
    name: str | None = None
    uid: str | None = None
    metadata: dict[str, str] | None = None
    throttle_rate: int | None = None
    rate_limit: int | None = None


def application_out(a: Application) -> dict[str, Any]:
    return {
        "id": a.id,
        "uid": a.uid,
        "name": a.name,
        "metadata": a.metadata,
        "throttleRate": a.rate_limit,
        "rateLimit": a.rate_limit,
        "createdAt": wire.when(a.created_at),
        "updatedAt": wire.when(a.updated_at),
    }


@router.get("")
async def list_applications(
    account: AccountDep, sys: SystemDep, limit: wire.Limit = 50, iterator: wire.Iterator = None
) -> Response:
    p = await sys.applications.list_page(account, cursor=iterator, limit=limit)
    return wire.listing(p.items, p, application_out)


@router.post("")
async def create_application(
    body: ApplicationIn, account: AccountDep, sys: SystemDep, get_if_exists: bool = False
) -> Response:
    """Create; with ``get_if_exists=true`` an application with the same uid is
    answered instead (200), as the SDKs' ``get_or_create`` expects."""
    if get_if_exists and body.uid is not None:
        try:
            return JSON(application_out(await sys.applications.get(account, body.uid)))
        except NotFound:
            pass
    app = await sys.applications.create(
        account,
        name=body.name,
        uid=body.uid,
        metadata=body.metadata,
        rate_limit=body.throttle_rate or body.rate_limit,
    )
    return JSON(application_out(app), status_code=201)


@router.get("/{app_id}")
async def get_application(app_id: str, account: AccountDep, sys: SystemDep) -> Response:
    return JSON(application_out(await sys.applications.get(account, app_id)))


@router.put("/{app_id}")
async def upsert_application(
    app_id: str, body: ApplicationIn, account: AccountDep, sys: SystemDep
) -> Response:
    """Replace the application; one that does not exist is created with this uid."""
    fields: dict[str, Any] = {
        "name": body.name,
        "uid": body.uid,
        "metadata": body.metadata,
        "rate_limit": body.throttle_rate or body.rate_limit,
    }
    try:
        await sys.applications.get(account, app_id)
    except NotFound:
        fields["uid"] = body.uid or app_id
        created = await sys.applications.create(account, **fields)
        return JSON(application_out(created), status_code=201)
    if body.uid is None:
        fields.pop("uid")
    return JSON(application_out(await sys.applications.update(account, app_id, fields)))


@router.patch("/{app_id}")
async def patch_application(
    app_id: str, body: ApplicationPatch, account: AccountDep, sys: SystemDep
) -> Response:
    changes: dict[str, Any] = {}
    for field in body.model_fields_set:
        value = getattr(body, field)
        changes["rate_limit" if field == "throttle_rate" else field] = value
    return JSON(application_out(await sys.applications.update(account, app_id, changes)))


@router.delete("/{app_id}", status_code=204)
async def delete_application(app_id: str, account: AccountDep, sys: SystemDep) -> Response:
    await sys.applications.delete(account, app_id)
    return wire.no_content()
