"""``/api/v1/auth/app-portal-access``: a link to an application's portal, as Svix
answers it (``{"url", "token"}``), over Hookline's one-time portal links. The other
``/api/v1/auth`` operations stay unsupported."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from hookline.api.deps import AccountDep, SystemDep
from hookline.api.responses import JSON
from hookline.api.routes.portal import portal_url
from hookline.api.svix import wire
from hookline.api.svix.applications import ApplicationIn
from hookline.errors import NotFound

router = wire.router("/auth")

# Svix's default expiry when the request names none; the server's maximum caps it.
SVIX_DEFAULT_SECONDS = 7 * 24 * 3600
# What Hookline's portal lets its user do: manage the application's endpoints (their
# secrets included) and send them test messages.
PORTAL_CAPABILITIES = frozenset({"ManageEndpoint", "CreateAttempts"})


class AppPortalAccessIn(wire.Camel):
    application: ApplicationIn | None = None
    read_only: bool | None = None
    capabilities: list[str] | None = None
    expiry: int | None = None
    # featureFlags and sessionId mean nothing here and are ignored.


@router.post("/app-portal-access/{app_id}")
async def app_portal_access(
    app_id: str,
    request: Request,
    account: AccountDep,
    sys: SystemDep,
    body: AppPortalAccessIn | None = None,
) -> Response:
    """A one-time link to the application's portal, valid for ``expiry`` seconds (Svix's
    7 days by default, at most ``HOOKLINE_PORTAL_MAX_SECONDS``). With ``application``,
    an application that does not exist yet is created first, as in Svix."""
    body = body or AppPortalAccessIn()
    # Never grant more than was asked: Hookline's portal has no read-only or narrower mode.
    if body.read_only:
        raise wire.unsupported("a read-only application portal")
    if body.capabilities is not None and not set(body.capabilities) >= PORTAL_CAPABILITIES:
        raise wire.unsupported("an application portal with fewer capabilities")
    try:
        app = await sys.applications.get(account, app_id)
    except NotFound:
        if body.application is None:
            raise
        made = body.application
        app = await sys.applications.create(
            account,
            name=made.name,
            uid=made.uid or app_id,
            metadata=made.metadata,
            rate_limit=made.throttle_rate or made.rate_limit,
        )
    expiry = body.expiry
    if expiry is None:
        expiry = int(min(SVIX_DEFAULT_SECONDS, sys.settings.portal_max_seconds))
    link = await sys.console.issue_portal_link(account, app.id, expiry)
    return JSON({"url": portal_url(request, sys.settings, link.token), "token": link.token})
