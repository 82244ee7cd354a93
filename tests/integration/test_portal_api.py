"""Portal links and branding from the API, native and Svix-compatible, against a real
server: the answers' shapes, the bounds of a link's life, and that an account reaches
only its own applications. What the portal then shows is tested in tests/browser."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie

import httpx
import pytest
from svix import SvixAsync, SvixOptions
from svix.api import ApplicationIn, AppPortalAccessIn
from svix.exceptions import HttpError, HTTPValidationError

from tests.support.server import Running

pytestmark = pytest.mark.slow

HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _near(value: datetime, expected: datetime, slack: float = 30.0) -> bool:
    return abs((value - expected).total_seconds()) < slack


async def _open(url: str) -> httpx.Response:
    """A portal link opened as a browser would, without following the redirect."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as c:
        return await c.get(url)


def _session_expiry(r: httpx.Response) -> datetime:
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(r.headers["set-cookie"])
    return parsedate_to_datetime(cookie["hookline_portal"]["expires"]).astimezone(UTC)


async def test_a_portal_session_link_opens_the_portal_once(hookline: Running) -> None:
    acme = await hookline.new_account()
    app = (await acme.post("/v1/applications", json={"name": "Shop", "uid": "shop"})).json()

    r = await acme.post("/v1/applications/shop/portal-sessions")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"url", "token", "expires_at"}
    assert body["token"].startswith("hkp_")
    # No public_url configured: the link is under the URL the request was made to.
    assert body["url"] == f"{hookline.url}/portal/enter/{body['token']}"
    assert _near(_when(body["expires_at"]), datetime.now(UTC) + HOUR)

    entered = await _open(body["url"])
    assert entered.status_code == 303
    assert entered.headers["location"] == "/portal"
    assert _near(_session_expiry(entered), _when(body["expires_at"]), 2)
    again = await _open(body["url"])
    assert again.status_code == 401
    assert "portal_link_invalid" in again.text

    # By id as well as by uid, with its own expiry.
    by_id = await acme.post(
        f"/v1/applications/{app['application_id']}/portal-sessions", json={"expires_in": 120}
    )
    assert by_id.status_code == 201, by_id.text
    assert _near(_when(by_id.json()["expires_at"]), datetime.now(UTC) + timedelta(seconds=120))
    longest = await acme.post(
        "/v1/applications/shop/portal-sessions", json={"expires_in": 7 * 24 * 3600}
    )
    assert longest.status_code == 201, longest.text
    # The default application has a portal too.
    assert (await acme.post("/v1/applications/default/portal-sessions")).status_code == 201


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"expires_in": 59}, "invalid_expires_in"),
        ({"expires_in": 0}, "invalid_expires_in"),
        ({"expires_in": -3600}, "invalid_expires_in"),
        ({"expires_in": 7 * 24 * 3600 + 1}, "invalid_expires_in"),
        ({"expires_in": "soon"}, "validation_error"),
        ({"expires_in": 600, "scope": "admin"}, "validation_error"),
    ],
)
async def test_a_portal_session_refuses_a_life_out_of_bounds(
    hookline: Running, body: dict[str, object], code: str
) -> None:
    acme = await hookline.new_account()
    r = await acme.post("/v1/applications/default/portal-sessions", json=body)
    assert (r.status_code, r.json()["code"]) == (422, code), r.text
    assert set(r.json()) >= {"error", "code"}


async def test_the_longest_link_follows_the_servers_setting(
    make_hookline: Callable[..., Awaitable[Running]],
) -> None:
    hookline = await make_hookline(
        worker=False, portal_max_seconds=600, public_url="https://hooks.example.com/"
    )
    acme = await hookline.new_account()
    ok = await acme.post("/v1/applications/default/portal-sessions", json={"expires_in": 600})
    assert ok.status_code == 201, ok.text
    # public_url set: the link is under it, whatever URL the request was made to.
    assert ok.json()["url"] == f"https://hooks.example.com/portal/enter/{ok.json()['token']}"
    over = await acme.post("/v1/applications/default/portal-sessions", json={"expires_in": 601})
    assert (over.status_code, over.json()["code"]) == (422, "invalid_expires_in")
    assert "600" in over.json()["error"]


async def test_a_portal_session_is_only_for_the_accounts_own_applications(
    hookline: Running,
) -> None:
    acme = await hookline.new_account("acme")
    other = await hookline.new_account("other")
    app = (await acme.post("/v1/applications", json={"name": "Shop", "uid": "shop"})).json()
    for name in (app["application_id"], "shop", "nope"):
        r = await other.post(f"/v1/applications/{name}/portal-sessions")
        assert (r.status_code, r.json()["code"]) == (404, "application_not_found"), name
    # The admin speaks for no account: it makes no portal links.
    r = await hookline.admin.post(f"/v1/applications/{app['application_id']}/portal-sessions")
    assert r.status_code == 403, r.text
    anonymous = hookline.client("hk_not_a_key")
    r = await anonymous.post("/v1/applications/shop/portal-sessions")
    assert (r.status_code, r.json()["code"]) == (401, "unauthorized")


async def test_branding_is_read_replaced_and_checked(hookline: Running) -> None:
    acme = await hookline.new_account("Acme Inc")
    other = await hookline.new_account("Other")
    start = await acme.get("/v1/branding")
    assert start.status_code == 200, start.text
    assert start.json() == {
        "name": "Acme Inc",
        "logo_url": None,
        "accent_color": None,
        "updated_at": None,
    }

    wanted = {
        "name": "Acme Hooks",
        "logo_url": "https://cdn.example.com/logo.svg",
        "accent_color": "#12a4Ef",
    }
    r = await acme.put("/v1/branding", json=wanted)
    assert r.status_code == 200, r.text
    saved = r.json()
    assert {k: saved[k] for k in wanted} == wanted
    assert _near(_when(saved["updated_at"]), datetime.now(UTC))
    assert (await acme.get("/v1/branding")).json() == saved
    # Each account has its own.
    assert (await other.get("/v1/branding")).json()["name"] == "Other"

    for body, code in [
        ({"accent_color": "red"}, "invalid_accent_color"),
        ({"accent_color": "#12345"}, "invalid_accent_color"),
        ({"logo_url": "javascript:alert(1)"}, "invalid_logo_url"),
        ({"logo_url": "data:image/svg+xml,<svg/>"}, "invalid_logo_url"),
        ({"name": "x" * 201}, "invalid_name"),
        ({"name": 5}, "validation_error"),
        ({"colour": "#ffffff"}, "validation_error"),
    ]:
        bad = await acme.put("/v1/branding", json=body)
        assert (bad.status_code, bad.json()["code"]) == (422, code), body
    assert (await acme.get("/v1/branding")).json() == saved

    # A PUT replaces the whole: what it leaves out is cleared.
    cleared = await acme.put("/v1/branding", json={"logo_url": "/console/static/logo.svg"})
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["name"], cleared.json()["accent_color"]) == (None, None)
    assert cleared.json()["logo_url"] == "/console/static/logo.svg"
    assert (await hookline.admin.get("/v1/branding")).status_code == 403


async def test_the_routes_are_in_the_openapi_document(hookline: Running) -> None:
    doc = (await hookline.admin.get("/openapi.json")).json()
    create = doc["paths"]["/v1/applications/{application}/portal-sessions"]["post"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PortalSession"
    }
    assert {"401", "403", "404", "422"} <= set(create["responses"])
    assert set(doc["paths"]["/v1/branding"]) == {"get", "put"}
    assert set(doc["components"]["schemas"]["Branding"]["required"]) == {
        "name",
        "logo_url",
        "accent_color",
        "updated_at",
    }


# -- the Svix-compatible route, with the official SDK ---------------------------------


@pytest.fixture
async def svix_of() -> AsyncIterator[Callable[[Running], Awaitable[SvixAsync]]]:
    made: list[SvixAsync] = []

    async def make(hookline: Running) -> SvixAsync:
        client = await hookline.new_account()
        token = client.headers["Authorization"].removeprefix("Bearer ")
        svix = SvixAsync(token, SvixOptions(server_url=hookline.url, retry_schedule=[]))
        made.append(svix)
        return svix

    yield make
    for svix in made:
        await svix._httpx_client.aclose()


async def test_svix_app_portal_access(
    hookline: Running, svix_of: Callable[[Running], Awaitable[SvixAsync]]
) -> None:
    svix = await svix_of(hookline)
    app = await svix.application.create(ApplicationIn(name="Shop", uid="shop"))

    access = await svix.authentication.app_portal_access(app.id, AppPortalAccessIn())
    assert access.token.startswith("hkp_")
    assert access.url == f"{hookline.url}/portal/enter/{access.token}"
    entered = await _open(access.url)
    assert entered.status_code == 303
    # Svix's default: a week.
    assert _near(_session_expiry(entered), datetime.now(UTC) + WEEK)
    assert (await _open(access.url)).status_code == 401

    # By uid, and `expiry` honoured.
    short = await svix.authentication.app_portal_access("shop", AppPortalAccessIn(expiry=3600))
    assert _near(_session_expiry(await _open(short.url)), datetime.now(UTC) + HOUR)
    with pytest.raises(HTTPValidationError) as too_short:
        await svix.authentication.app_portal_access("shop", AppPortalAccessIn(expiry=10))
    assert too_short.value.status_code == 422

    # With `application`, one that does not exist yet is made first; else 404.
    made = await svix.authentication.app_portal_access(
        "new-shop", AppPortalAccessIn(application=ApplicationIn(name="New shop", uid="new-shop"))
    )
    assert made.token.startswith("hkp_")
    assert (await svix.application.get("new-shop")).name == "New shop"
    with pytest.raises(HttpError) as missing:
        await svix.authentication.app_portal_access("no-such-app", AppPortalAccessIn())
    assert (missing.value.status_code, missing.value.code) == (404, "application_not_found")

    # Never more than asked: no read-only portal, nor one with fewer capabilities.
    for narrower in (
        AppPortalAccessIn(read_only=True),
        AppPortalAccessIn(capabilities=["ViewBase"]),
    ):
        with pytest.raises(HttpError) as refused:
            await svix.authentication.app_portal_access("shop", narrower)
        assert (refused.value.status_code, refused.value.code) == (501, "not_supported")
    full = await svix.authentication.app_portal_access(
        "shop",
        AppPortalAccessIn(capabilities=["ViewBase", "ManageEndpoint", "CreateAttempts"]),
    )
    assert full.token.startswith("hkp_")
    # The rest of /api/v1/auth is still not supported.
    with pytest.raises(HttpError) as logout:
        await svix.authentication.logout()
    assert (logout.value.status_code, logout.value.code) == (501, "not_supported")

    # Another account's application is not found.
    stranger = await svix_of(hookline)
    with pytest.raises(HttpError) as theirs:
        await stranger.authentication.app_portal_access(app.id, AppPortalAccessIn())
    assert theirs.value.status_code == 404
