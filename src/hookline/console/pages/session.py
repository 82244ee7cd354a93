"""Signing in and out of the console, and entering the portal through its link."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from hookline.console.registry import PAGES
from hookline.console.web import (
    CONSOLE,
    ENV,
    PORTAL,
    Form,
    Page,
    check_origin,
    error_page,
    page,
    secure,
    secure_cookie,
)
from hookline.errors import AuthenticationFailed
from hookline.system import System

PRE_COOKIE = "hookline_signin"  # the sign-in form's own CSRF token, before any session


def _sign_in_form(request: Request, status: int = 200, error: str | None = None) -> Response:
    system: System = request.app.state.system
    token = secrets.token_urlsafe(24)
    html = ENV.get_template("sign_in.html").render(csrf=token, error=error, place=CONSOLE)
    response = HTMLResponse(html, status_code=status)
    secure(response, system, CONSOLE)
    response.set_cookie(
        PRE_COOKIE,
        token,
        max_age=3600,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=secure_cookie(request),
    )
    return response


async def sign_in_page(request: Request) -> Response:
    return _sign_in_form(request)


async def sign_in(request: Request) -> Response:
    check_origin(request)
    form = Form.parse(await request.body())
    expected = request.cookies.get(PRE_COOKIE, "")
    sent = form.get("csrf")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _sign_in_form(request, 403, "The form expired: sign in again.")
    system: System = request.app.state.system
    try:
        token, _viewer = await system.console.sign_in(form.get("key"))
    except AuthenticationFailed:
        return _sign_in_form(request, 401, "That key is not valid.")
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        CONSOLE.cookie,
        token,
        max_age=int(system.settings.console_session_seconds),
        path="/console",
        httponly=True,
        samesite="lax",
        secure=secure_cookie(request),
    )
    response.delete_cookie(PRE_COOKIE, path="/console")
    return response


@PAGES.post("/sign-out", portal=True)
async def sign_out(p: Annotated[Page, Depends(page)]) -> Response:
    token = p.request.cookies.get(p.place.cookie, "")
    await p.system.console.sign_out(token)
    target = "/console/sign-in" if p.place is CONSOLE else "/portal/signed-out"
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(p.place.cookie, path=p.place.prefix)
    return response


async def enter_portal(request: Request, token: str) -> Response:
    """A portal link: its token is used once, here, and becomes a cookie."""
    system: System = request.app.state.system
    entered = await system.console.enter_portal(token)
    if entered is None:
        return error_page(
            request,
            401,
            "This portal link has expired or was already used: ask for a new one.",
            "portal_link_invalid",
        )
    session, viewer = entered
    response = RedirectResponse("/portal", status_code=303)
    https = secure_cookie(request)
    response.set_cookie(
        PORTAL.cookie,
        session,
        expires=viewer.expires_at,
        path="/portal",
        httponly=True,
        # In another site's iframe a cookie is only sent if SameSite=None, which
        # browsers accept only on Secure cookies, so over HTTPS alone.
        samesite="none" if https else "lax",
        secure=https,
    )
    return response


async def signed_out(request: Request) -> Response:
    return error_page(request, 200, "You have left the portal.", "signed_out")


def install_session_routes(app: object) -> None:
    from fastapi import FastAPI

    assert isinstance(app, FastAPI)
    app.add_api_route("/console/sign-in", sign_in_page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/console/sign-in", sign_in, methods=["POST"], include_in_schema=False)
    app.add_api_route(
        "/portal/enter/{token}", enter_portal, methods=["GET"], include_in_schema=False
    )
    app.add_api_route("/portal/signed-out", signed_out, methods=["GET"], include_in_schema=False)
