"""What every console and portal page shares: who is looking, forms and their CSRF
check, templates, and the headers every page is answered with.

The console (``/console``) is for an account or the admin, signed in with an API key; the
portal (``/portal``) is for one application of one account, entered through a one-time
link. Both are the same page handlers over the same services as the API: a handler reads
the viewer, calls a service with the viewer's account, and renders a template.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from hookline.errors import HooklineError, InvalidInput, NotFound, PermissionDenied
from hookline.services.console import Viewer
from hookline.store.console import Branding
from hookline.system import System

STATIC = str(files("hookline.console") / "static")
TEMPLATES = str(files("hookline.console") / "templates")
FLASH_COOKIE = "hookline_flash"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a set of pages lives, and the cookie that signs a browser in there."""

    prefix: str
    cookie: str
    portal: bool


CONSOLE = Place("/console", "hookline_console", portal=False)
PORTAL = Place("/portal", "hookline_portal", portal=True)


def place_of(path: str) -> Place | None:
    for place in (CONSOLE, PORTAL):
        if path == place.prefix or path.startswith(place.prefix + "/"):
            return place
    return None


class SignInRequired(Exception):
    """No valid session for this place: the console asks for a key, the portal for a
    new link."""

    def __init__(self, place: Place) -> None:
        super().__init__(place.prefix)
        self.place = place


class CsrfRefused(PermissionDenied):
    """This form was not sent from a page of this server: reload the page and try again."""

    code = "csrf_refused"


class Form:
    """A submitted ``application/x-www-form-urlencoded`` body (the only kind these pages
    send), with the same size limit as every request."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self.values = values

    @classmethod
    def parse(cls, body: bytes) -> Form:
        try:
            text = body.decode()
        except UnicodeDecodeError:
            return cls({})
        return cls(parse_qs(text, keep_blank_values=True, max_num_fields=2000))

    def get(self, name: str, default: str = "") -> str:
        found = self.values.get(name)
        return found[0] if found else default

    def optional(self, name: str) -> str | None:
        value = self.get(name).strip()
        return value or None

    def getlist(self, name: str) -> list[str]:
        return list(self.values.get(name, []))

    def flag(self, name: str) -> bool:
        return self.get(name) in ("on", "true", "1", "yes")


def _ts(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def _body(value: bytes | str | None) -> str:
    """A request or response body for the page: pretty JSON when it is JSON."""
    if value is None:
        return ""
    raw = value if isinstance(value, bytes) else value.encode()
    try:
        return _json(orjson.loads(raw))
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace")


def local_time(name: str, value: str) -> datetime | None:
    """A ``datetime-local`` form value, read as UTC (the pages speak UTC; an explicit
    offset is honoured); empty is None."""
    value = value.strip()
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{name} must be a date and time such as 2025-01-31T13:45", code=f"invalid_{name}"
        ) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def local_input(at: datetime) -> str:
    """A time as a ``datetime-local`` input shows it, in UTC."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ts"] = _ts
    env.filters["iso"] = _iso
    env.filters["pretty_json"] = _json
    env.filters["body"] = _body
    return env


ENV = _environment()


@dataclass
class Page:
    """One request to a page: the viewer, the services, and how to answer."""

    request: Request
    system: System
    viewer: Viewer
    place: Place
    form: Form = field(default_factory=lambda: Form({}))
    # The account's portal branding, which every portal page's header shows.
    branding: Branding | None = None

    @property
    def account_id(self) -> str:
        if self.viewer.account_id is None:
            raise PermissionDenied("this page is for an account; the admin signs in elsewhere")
        return self.viewer.account_id

    def url(self, path: str = "", **query: Any) -> str:
        """A link within this place (``/console/…`` or ``/portal/…``)."""
        kept = {k: v for k, v in query.items() if v not in (None, "")}
        return self.place.prefix + path + (f"?{urlencode(kept, doseq=True)}" if kept else "")

    async def app_id(self, chosen: str | None = None) -> str:
        """The application the page is about: the portal's own, or in the console the one
        chosen (``?app=``), else the account's default."""
        if self.viewer.app_id is not None:
            return self.viewer.app_id
        return await self.system.applications.app_id(self.account_id, chosen or None)

    async def webhook(self, webhook_id: str) -> Any:
        """A webhook the viewer may see: in the portal, one of its application's."""
        if self.viewer.app_id is not None:
            return await self.system.webhooks.find(self.account_id, self.viewer.app_id, webhook_id)
        return await self.system.webhooks.get(self.account_id, webhook_id)

    async def allow_endpoint(self, endpoint_id: str) -> None:
        """Refuse a delivery, attempt or event whose webhook is outside the portal's
        application (as if it did not exist, like another account's)."""
        if self.viewer.app_id is None:
            return
        endpoint = await self.system.webhooks.get(self.account_id, endpoint_id)
        if endpoint.app_id != self.viewer.app_id:
            raise NotFound("webhook")

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        flash = self.request.cookies.get(FLASH_COOKIE)
        html = ENV.get_template(template).render(
            page=self,
            viewer=self.viewer,
            place=self.place,
            flash=flash if flash in FLASHES else None,
            flash_text=FLASHES.get(flash or ""),
            branding=values.pop("branding", self.branding),
            **values,
        )
        response = HTMLResponse(html, status_code=status)
        secure(response, self.system, self.place)
        if flash:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response

    def redirect(self, path: str, flash: str | None = None, **query: Any) -> Response:
        """After a form: back to a page (Post/Redirect/Get), with a one-time notice."""
        response = RedirectResponse(self.url(path, **query), status_code=303)
        if flash is not None:
            assert flash in FLASHES, flash
            response.set_cookie(FLASH_COOKIE, flash, max_age=60, path="/", samesite="lax")
        return response


# The notices a redirect may carry: fixed texts, so nothing a URL or cookie says is shown.
FLASHES: Mapping[str, str] = {
    "webhook_created": "Webhook created.",
    "webhook_saved": "Webhook saved.",
    "webhook_disabled": "Webhook disabled.",
    "webhook_enabled": "Webhook enabled.",
    "webhook_deleted": "Webhook deleted.",
    "secret_rotated": "Secret rotated: the previous one still signs for 24 hours.",
    "test_sent": "Test event sent.",
    "recover_started": "Recovery started: failed deliveries since then are being sent again.",
    "retry_queued": "Delivery queued to be sent again.",
    "retry_all_started": "The matching deliveries are being sent again.",
    "delivery_cancelled": "Delivery cancelled.",
    "account_created": "Account created.",
    "key_created": "Key created.",
    "key_revoked": "Key revoked.",
    "credited": "Credits added.",
    "branding_saved": "Portal branding saved.",
    "portal_link_created": "Portal link created.",
    "event_type_saved": "Event type saved.",
    "api_paused": "API paused: it takes no new calls until it is resumed.",
    "api_resumed": "API resumed: it takes calls again.",
}


def secure(response: Response, system: System, place: Place) -> None:
    """Headers on every page: scripts and styles from this server only, no caching, no
    referrer (the portal's link token must not leak), and who may frame the page."""
    if place.portal:
        ancestors = " ".join(("'self'", *system.settings.portal_frame_ancestors))
    else:
        ancestors = "'none'"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        f"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    if not place.portal:
        response.headers["X-Frame-Options"] = "DENY"


def secure_cookie(request: Request) -> bool:
    """Whether the browser reached this server over HTTPS (directly or, as the proxy
    says, in front of it)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def check_origin(request: Request) -> None:
    """A form must come from this server's own pages: the browser's Origin (or Referer)
    names this host, when it names one."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return  # the CSRF token alone decides
    host = request.headers.get("host", "")
    if urlsplit(origin).netloc != host:
        raise CsrfRefused()


def check_csrf(request: Request, form: Form, viewer: Viewer) -> None:
    sent = request.headers.get("x-csrf-token") or form.get("csrf")
    if not sent or not hmac.compare_digest(sent.encode(), viewer.csrf.encode()):
        raise CsrfRefused()


async def page(request: Request) -> Page:
    """The dependency of every signed-in page: resolves the session of this place, and
    for a form checks where it came from and its CSRF token."""
    place = place_of(request.url.path)
    assert place is not None
    system: System = request.app.state.system
    viewer = await system.console.resolve(request.cookies.get(place.cookie))
    if viewer is None or viewer.in_portal != place.portal:
        raise SignInRequired(place)
    form = Form({})
    if request.method == "POST":
        check_origin(request)
        form = Form.parse(await request.body())
        check_csrf(request, form, viewer)
    branding = None
    if place.portal and viewer.account_id is not None:
        branding = await system.console.branding(viewer.account_id)
    return Page(
        request=request, system=system, viewer=viewer, place=place, form=form, branding=branding
    )


def error_page(request: Request, status: int, message: str, code: str) -> Response:
    """An error on a page, as a page (or, for an htmx request, the notice it shows)."""
    place = place_of(request.url.path) or CONSOLE
    system: System = request.app.state.system
    if request.headers.get("hx-request"):
        html = ENV.get_template("_error_fragment.html").render(message=message, code=code)
        response: Response = HTMLResponse(html, status_code=status)
        response.headers["HX-Retarget"] = "#notice"
        response.headers["HX-Reswap"] = "innerHTML"
    else:
        html = ENV.get_template("error.html").render(
            status=status, message=message, code=code, place=place
        )
        response = HTMLResponse(html, status_code=status)
    secure(response, system, place)
    return response


def refusal(request: Request, exc: HooklineError, status: int) -> Response:
    return error_page(request, status, exc.message, exc.code)
