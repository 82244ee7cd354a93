"""The console's portal page: the branding the account's portal shows, and one-time
links that open the portal of one of its applications (shown once, with an iframe
snippet to embed it)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from starlette.responses import Response

from hookline.api.routes.portal import portal_url
from hookline.console.registry import PAGES
from hookline.console.web import Page, page
from hookline.errors import InvalidInput
from hookline.services.console import DEFAULT_PORTAL_SECONDS, MIN_PORTAL_SECONDS, PortalLink


@dataclass(frozen=True, slots=True)
class BrandingDraft:
    """The branding form's fields, as last saved or as just sent."""

    name: str
    logo_url: str
    accent_color: str


@dataclass(frozen=True, slots=True)
class Issued:
    link: PortalLink
    url: str
    application: Any
    snippet: str


def _snippet(url: str, title: str) -> str:
    """What to put in a page of the account's own site to embed the portal."""
    return (
        f'<iframe src="{html.escape(url)}" title="{html.escape(title)}" width="100%" '
        'height="720" style="border: 0"></iframe>'
    )


async def _render(
    p: Page,
    *,
    draft: BrandingDraft | None = None,
    branding_error: str | None = None,
    link_error: str | None = None,
    chosen: str | None = None,
    expires_in: str | None = None,
    issued: Issued | None = None,
    status: int = 200,
) -> Response:
    account = p.account_id
    if draft is None:
        saved = await p.system.console.branding(account)
        draft = BrandingDraft(saved.name or "", saved.logo_url or "", saved.accent_color or "")
    apps = await p.system.applications.list_page(account, cursor=None, limit=250)
    settings = p.system.settings
    return p.render(
        "portal/index.html",
        status=status,
        nav="portal",
        draft=draft,
        branding_error=branding_error,
        link_error=link_error,
        applications=apps.items,
        chosen=chosen,
        expires_in=expires_in or f"{DEFAULT_PORTAL_SECONDS:g}",
        min_seconds=f"{MIN_PORTAL_SECONDS:g}",
        max_seconds=f"{settings.portal_max_seconds:g}",
        frame_ancestors=settings.portal_frame_ancestors,
        issued=issued,
    )


@PAGES.get("/portal")
async def portal_settings(p: Annotated[Page, Depends(page)]) -> Response:
    return await _render(p)


@PAGES.post("/portal/branding")
async def save_branding(p: Annotated[Page, Depends(page)]) -> Response:
    draft = BrandingDraft(p.form.get("name"), p.form.get("logo_url"), p.form.get("accent_color"))
    try:
        await p.system.console.set_branding(
            p.account_id,
            name=draft.name,
            logo_url=draft.logo_url,
            accent_color=draft.accent_color,
        )
    except InvalidInput as exc:
        return await _render(p, draft=draft, branding_error=exc.message, status=422)
    return p.redirect("/portal", flash="branding_saved")


@PAGES.post("/portal/links")
async def create_link(p: Annotated[Page, Depends(page)]) -> Response:
    """The link is shown on this very page, once: it is not kept anywhere readable."""
    chosen = p.form.optional("application")
    given = p.form.get("expires_in").strip()
    try:
        seconds = float(given) if given else None
    except ValueError:
        seconds = float("nan")  # refused below with the service's own message
    try:
        if chosen is None:
            raise InvalidInput("choose an application", code="application_required")
        app = await p.system.applications.get(p.account_id, chosen)
        link = await p.system.console.issue_portal_link(p.account_id, app.id, seconds)
    except InvalidInput as exc:
        return await _render(p, link_error=exc.message, chosen=chosen, expires_in=given, status=422)
    url = portal_url(p.request, p.system.settings, link.token)
    issued = Issued(link=link, url=url, application=app, snippet=_snippet(url, app.name))
    return await _render(p, chosen=app.id, expires_in=given, issued=issued)
