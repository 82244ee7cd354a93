"""The web console (``/console``) and the embeddable portal (``/portal``): server-rendered
pages over the same services as the API, with a vendored htmx for live parts."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from hookline.console.pages import session
from hookline.console.registry import PAGES
from hookline.console.web import CONSOLE, STATIC, SignInRequired, error_page, place_of


def _load_pages() -> None:
    # Importing a module registers its pages.
    from hookline.console.pages import (  # noqa: F401
        admin,
        event_types,
        events,
        gateway,
        live,
        overview,
        portal,
        webhooks,
    )


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    if exc.place is CONSOLE:
        if request.headers.get("hx-request"):
            response: Response = Response(status_code=401)
            response.headers["HX-Redirect"] = "/console/sign-in"
            return response
        return RedirectResponse("/console/sign-in", status_code=303)
    return error_page(
        request,
        401,
        "Your portal session has ended: open a new portal link.",
        "portal_session_ended",
    )


def is_page(path: str) -> bool:
    return place_of(path) is not None


def install(app: FastAPI) -> None:
    _load_pages()
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    session.install_session_routes(app)
    PAGES.install(app)
    app.add_exception_handler(SignInRequired, _sign_in_required)
