"""The portal from the API: one-time links that open an application's portal, and the
branding the account's portal shows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from hookline.api import responses as out
from hookline.api import shapes
from hookline.api.deps import AccountDep, SystemDep
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON
from hookline.api.schemas import BrandingUpdate, PortalSessionCreate
from hookline.config import Settings
from hookline.store.console import Branding

router = APIRouter(route_class=GuardedRoute, tags=["portal"])


def portal_url(request: Request, settings: Settings, token: str) -> str:
    """Where a portal link opens: under ``public_url`` when it is set, else under the URL
    this request was made to."""
    base = settings.public_url.strip().rstrip("/") or str(request.base_url).rstrip("/")
    return f"{base}/portal/enter/{token}"


def branding_out(b: Branding) -> dict[str, Any]:
    return {
        "name": b.name,
        "logo_url": b.logo_url,
        "accent_color": b.accent_color,
        "updated_at": out.ts(b.updated_at),
    }


@router.post(
    "/v1/applications/{application}/portal-sessions",
    status_code=201,
    response_class=JSON,
    response_model=shapes.PortalSession,
)
async def create_portal_session(
    application: str,
    request: Request,
    account: AccountDep,
    sys: SystemDep,
    body: PortalSessionCreate | None = None,
) -> Any:
    """A link that opens the portal of one application (by id or uid) for whoever holds
    it: give ``url`` to your customer, or put it in an iframe. It can be opened once, until
    ``expires_at``; the portal session it starts lasts until then too. 422
    invalid_expires_in when ``expires_in`` is outside 60 s and the server's
    ``HOOKLINE_PORTAL_MAX_SECONDS``; 404 application_not_found."""
    expires_in = body.expires_in if body is not None else None
    link = await sys.console.issue_portal_link(account, application, expires_in)
    return JSON(
        {
            "url": portal_url(request, sys.settings, link.token),
            "token": link.token,
            "expires_at": out.ts(link.expires_at),
        },
        status_code=201,
    )


@router.get("/v1/branding", response_class=JSON, response_model=shapes.Branding)
async def get_branding(account: AccountDep, sys: SystemDep) -> Any:
    """How the account's portal looks: the name and logo in its header, its accent colour."""
    return JSON(branding_out(await sys.console.branding(account)))


@router.put("/v1/branding", response_class=JSON, response_model=shapes.Branding)
async def set_branding(body: BrandingUpdate, account: AccountDep, sys: SystemDep) -> Any:
    """Replace the portal's branding (a field left out is cleared). 422 invalid_name,
    invalid_logo_url or invalid_accent_color."""
    branding = await sys.console.set_branding(
        account, name=body.name, logo_url=body.logo_url, accent_color=body.accent_color
    )
    return JSON(branding_out(branding))
