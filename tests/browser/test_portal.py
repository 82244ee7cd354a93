"""The portal as a customer sees it: a one-time link opens one application's webhooks and
nothing else, under the account's branding, on its own or embedded in another site's
page (only of the origins the server allows)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from hookline.services.common import Context
from hookline.services.console import ConsoleService
from tests.browser.conftest import Site, no_problems, shoot
from tests.support.server import Running

EXPIRED = "has expired or was already used"
LOGO = "/docs/assets/favicon.png"  # an image this server serves (img-src 'self')


@dataclass
class Apps:
    """Two applications of the site's account, with a webhook each."""

    a_hook: dict[str, Any]
    b_hook: dict[str, Any]


async def _two_applications(site: Site) -> Apps:
    client = site.client()
    hooks = []
    for uid in ("alpha", "beta"):
        made = await client.post("/v1/applications", json={"name": uid.title(), "uid": uid})
        assert made.status_code == 201, made.text
        hook = await client.post(
            "/v1/webhooks",
            json={"callback_url": f"http://127.0.0.1:9/{uid}-hook", "application": uid},
        )
        assert hook.status_code == 201, hook.text
        hooks.append(hook.json())
    return Apps(a_hook=hooks[0], b_hook=hooks[1])


async def _link(site: Site, application: str, **body: Any) -> str:
    r = await site.client().post(f"/v1/applications/{application}/portal-sessions", json=body)
    assert r.status_code == 201, r.text
    url: str = r.json()["url"]
    return url


async def test_a_link_opens_its_application_alone_and_only_once(site: Site, tab: Page) -> None:
    apps = await _two_applications(site)
    link = await _link(site, "alpha")

    await tab.goto(link)
    await expect(tab).to_have_url(site.url + "/portal")
    await expect(tab.get_by_role("heading", name="Webhooks")).to_be_visible()
    a_url, b_url = apps.a_hook["callback_url"], apps.b_hook["callback_url"]
    await expect(tab.get_by_role("link", name=a_url)).to_be_visible()
    # Only the application's own webhooks, and no way to pick another application.
    await expect(tab.get_by_text(b_url)).to_have_count(0)
    await expect(tab.get_by_label("Application")).to_have_count(0)
    await expect(tab.locator("header .brand")).to_contain_text("Acme")

    # The link's token became a session cookie that the portal alone receives.
    cookies = {c["name"]: c for c in await tab.context.cookies()}
    assert "hookline_console" not in cookies
    session = cookies["hookline_portal"]
    assert (session["httpOnly"], session["path"], session["sameSite"]) == (True, "/portal", "Lax")
    # The link's token is not the session's: the URL is worth nothing once used.
    assert session["value"] not in link

    await tab.get_by_role("link", name=a_url).click()
    await expect(tab).to_have_url(f"{site.url}/portal/webhooks/{apps.a_hook['webhook_id']}")
    await expect(tab.get_by_text(a_url).first).to_be_visible()

    # Another application's webhook is not found, as if it did not exist.
    for path in ("", "/edit", "/secret", "/deliveries"):
        answer = await tab.goto(f"{site.url}/portal/webhooks/{apps.b_hook['webhook_id']}{path}")
        assert answer is not None
        assert answer.status == 404, path
    await expect(tab.get_by_role("alert")).to_contain_text("not found")
    await expect(tab.get_by_text(b_url)).to_have_count(0)

    # The link a second time: refused, even to the browser that used it.
    again = await tab.goto(link)
    assert again is not None
    assert again.status == 401
    await expect(tab.get_by_role("alert")).to_contain_text(EXPIRED)
    # The session it opened lives on.
    back = await tab.goto(site.url + "/portal")
    assert back is not None
    assert back.status == 200
    no_problems(tab)


async def test_a_post_to_another_applications_webhook_is_refused(site: Site, tab: Page) -> None:
    apps = await _two_applications(site)
    await tab.goto(await _link(site, "alpha"))
    await expect(tab.get_by_role("link", name=apps.a_hook["callback_url"])).to_be_visible()
    csrf = await tab.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    cookie = {c["name"]: c["value"] for c in await tab.context.cookies()}["hookline_portal"]
    async with httpx.AsyncClient(base_url=site.url, cookies={"hookline_portal": cookie}) as c:
        for action in ("delete", "disable", "test"):
            r = await c.post(
                f"/portal/webhooks/{apps.b_hook['webhook_id']}/{action}", data={"csrf": csrf}
            )
            assert r.status_code == 404, (action, r.text)
    still = await site.client().get(f"/v1/webhooks/{apps.b_hook['webhook_id']}")
    assert still.json()["status"] == "active"


async def test_an_expired_link_is_refused(site: Site, tab: Page) -> None:
    await _two_applications(site)
    system = site.running.system
    # A link issued two hours ago for one hour: expired an hour ago.
    two_hours_ago = ConsoleService(
        system.console.repo,
        system.accounts,
        system.applications,
        Context(clock=lambda: datetime.now(UTC) - timedelta(hours=2)),
        session_seconds=system.settings.console_session_seconds,
        portal_max_seconds=system.settings.portal_max_seconds,
    )
    old = await two_hours_ago.issue_portal_link(site.account_id, "alpha", 3600)
    answer = await tab.goto(f"{site.url}/portal/enter/{old.token}")
    assert answer is not None
    assert answer.status == 401
    await expect(tab.get_by_role("alert")).to_contain_text(EXPIRED)
    assert not [c for c in await tab.context.cookies() if c["name"] == "hookline_portal"]
    # Without a session the portal asks for a new link.
    portal = await tab.goto(site.url + "/portal")
    assert portal is not None
    assert portal.status == 401
    await expect(tab.get_by_role("alert")).to_contain_text("open a new portal link")
    # A made-up token is refused the same way.
    made_up = await tab.goto(f"{site.url}/portal/enter/hkp_{'x' * 43}")
    assert made_up is not None
    assert made_up.status == 401


async def test_the_portal_session_grants_nothing_in_the_console_or_the_api(
    site: Site, tab: Page
) -> None:
    apps = await _two_applications(site)
    await tab.goto(await _link(site, "alpha"))
    await expect(tab.get_by_role("link", name=apps.a_hook["callback_url"])).to_be_visible()
    session = {c["name"]: c["value"] for c in await tab.context.cookies()}["hookline_portal"]

    # In the browser: the console still asks for a key.
    await tab.goto(site.url + "/console/webhooks")
    await expect(tab).to_have_url(site.url + "/console/sign-in")

    # Sent as either cookie, the portal's session opens no console page...
    for name in ("hookline_portal", "hookline_console"):
        async with httpx.AsyncClient(base_url=site.url, cookies={name: session}) as c:
            for path in ("/console", "/console/webhooks", "/console/portal"):
                r = await c.get(path)
                assert r.status_code == 303, (name, path)
                assert r.headers["location"] == "/console/sign-in"
    # ...and no API operation, as a cookie or as a key.
    for headers, cookies in (
        ({"Authorization": f"Bearer {session}"}, {}),
        ({}, {"hookline_portal": session, "hookline_console": session}),
    ):
        async with httpx.AsyncClient(base_url=site.url, headers=headers, cookies=cookies) as c:
            for path in ("/v1/webhooks", f"/v1/webhooks/{apps.a_hook['webhook_id']}"):
                r = await c.get(path)
                assert r.status_code == 401, (path, r.text)
            assert (await c.post("/v1/applications/alpha/portal-sessions")).status_code == 401
            assert (await c.get("/api/v1/app")).status_code == 401
    # And signing out of the portal ends the session on the server.
    await tab.goto(site.url + "/portal")
    await tab.get_by_role("button", name="Sign out").click()
    await expect(tab.get_by_role("alert")).to_contain_text("left the portal")
    async with httpx.AsyncClient(base_url=site.url, cookies={"hookline_portal": session}) as c:
        assert (await c.get("/portal")).status_code == 401


async def test_branding_set_in_the_console_shows_in_the_portal(
    site: Site, tab: Page, browser: Browser, tmp_path: Path
) -> None:
    apps = await _two_applications(site)
    await site.sign_in(tab)
    await tab.get_by_role("navigation", name="Console").get_by_role("link", name="Portal").click()
    await expect(tab).to_have_url(site.url + "/console/portal")
    await expect(tab.get_by_role("heading", name="Portal", exact=True)).to_be_visible()
    # Until set, the account's name.
    await expect(tab.get_by_label("Name")).to_have_value("Acme")

    await tab.get_by_label("Accent colour").fill("crimson")
    await tab.get_by_role("button", name="Save branding").click()
    await expect(tab.get_by_role("alert")).to_contain_text("accent_color must be")
    await expect(tab.get_by_label("Accent colour")).to_have_value("crimson")

    await tab.get_by_label("Name").fill("Acme Hooks")
    await tab.get_by_label("Logo URL").fill(LOGO)
    await tab.get_by_label("Accent colour").fill("#c2185b")
    await tab.get_by_role("button", name="Save branding").click()
    await expect(tab.get_by_text("Portal branding saved.")).to_be_visible()
    await expect(tab.get_by_label("Name")).to_have_value("Acme Hooks")
    await expect(tab.get_by_label("Logo URL")).to_have_value(LOGO)
    await expect(tab.get_by_label("Accent colour")).to_have_value("#c2185b")
    await shoot(tab, "portal-branding", tmp_path)
    # The console keeps its own look.
    await expect(tab.locator("header .brand")).to_have_text("Hookline")
    branding = (await site.client().get("/v1/branding")).json()
    assert (branding["name"], branding["logo_url"], branding["accent_color"]) == (
        "Acme Hooks",
        LOGO,
        "#c2185b",
    )

    # A link from the console: the application chosen, shown once with its iframe.
    await tab.get_by_label("Application").select_option(label="Alpha (alpha)")
    expires = tab.get_by_label("Expires in (seconds)")
    await expires.fill("59")
    await tab.get_by_role("button", name="Create portal link").click()
    # The browser refuses it first; and the server, when the browser does not.
    assert await expires.evaluate("input => !input.validity.valid")
    await expires.evaluate("input => input.removeAttribute('min')")
    await tab.get_by_role("button", name="Create portal link").click()
    await expect(tab.get_by_role("alert")).to_contain_text("expires_in must be between")
    await expect(tab.get_by_label("Application")).to_have_value(apps.a_hook["application_id"])
    await tab.get_by_label("Expires in (seconds)").fill("600")
    await tab.get_by_role("button", name="Create portal link").click()
    await expect(tab.get_by_role("heading", name="New portal link")).to_be_visible()
    link = await tab.get_by_label("Portal link", exact=True).input_value()
    assert link.startswith(site.url + "/portal/enter/hkp_"), link
    snippet = await tab.get_by_label("Iframe snippet").input_value()
    assert snippet.startswith(f'<iframe src="{link}"'), snippet
    await expect(tab.get_by_text("HOOKLINE_PORTAL_FRAME_ANCESTORS")).to_be_visible()
    await tab.goto(site.url + "/console/portal")
    await expect(tab.get_by_role("heading", name="Create a portal link")).to_be_visible()
    await expect(tab.get_by_role("heading", name="New portal link")).to_have_count(0)
    no_problems(tab)

    # The customer, in a browser of their own.
    customer = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        portal = await customer.new_page()
        await portal.goto(link)
        await expect(portal).to_have_url(site.url + "/portal")
        await expect(portal.get_by_role("link", name=apps.a_hook["callback_url"])).to_be_visible()
        await _shows_branding(portal, "Acme Hooks", "rgb(194, 24, 91)")
        await shoot(portal, "portal", tmp_path)
        # Every portal page, not the home alone.
        await portal.get_by_role("link", name=apps.a_hook["callback_url"]).click()
        await expect(portal).to_have_url(f"{site.url}/portal/webhooks/{apps.a_hook['webhook_id']}")
        await _shows_branding(portal, "Acme Hooks", "rgb(194, 24, 91)")
    finally:
        await customer.close()


async def _shows_branding(tab: Page, name: str, accent: str) -> None:
    brand = tab.locator("header .brand")
    await expect(brand).to_have_text(name)
    logo = brand.locator("img.logo")
    await expect(logo).to_be_visible()
    await expect(logo).to_have_attribute("src", LOGO)
    assert await logo.evaluate("img => img.complete && img.naturalWidth > 0")
    # The accent colour: the portal's buttons and current link take it.
    button = tab.get_by_role("button", name="Sign out")
    await expect(button).to_have_css("color", accent)


# -- embedding ------------------------------------------------------------------------


@dataclass
class Embedder:
    """Another site's server on 127.0.0.1, two ports (two origins): its pages hold the
    portal in an iframe."""

    ports: tuple[int, int]
    pages: dict[str, str] = field(default_factory=dict)

    def origin(self, which: int) -> str:
        return f"http://127.0.0.1:{self.ports[which]}"

    def page_with(self, name: str, src: str) -> None:
        self.pages[name] = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Our app</title></head>"
            f"<body><h1>Our app</h1><iframe src='{src}' title='Webhooks portal' "
            "width='1000' height='600'></iframe></body></html>"
        )


@pytest.fixture
async def embedder() -> AsyncIterator[Embedder]:
    pages: dict[str, str] = {}

    async def serve(request: web.Request) -> web.Response:
        html = pages.get(request.match_info["name"])
        if html is None:
            return web.Response(status=404)
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    ports = []
    for _ in range(2):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        ports.append(sock.getsockname()[1])
        await web.SockSite(runner, sock).start()
    try:
        yield Embedder(ports=(ports[0], ports[1]), pages=pages)
    finally:
        await runner.cleanup()


async def _embedding_site(
    make_hookline: Callable[..., Awaitable[Running]], embedder: Embedder
) -> Site:
    # Only the first of the two origins may frame the portal.
    running = await make_hookline(portal_frame_ancestors=(embedder.origin(0),))
    r = await running.admin.post("/v1/accounts", json={"name": "Acme"})
    assert r.status_code == 201, r.text
    body = r.json()
    return Site(running=running, key=body["api_key"]["key"], account_id=body["account_id"])


async def test_the_portal_renders_in_an_iframe_of_an_allowed_origin(
    make_hookline: Callable[..., Awaitable[Running]], embedder: Embedder, tab: Page
) -> None:
    site = await _embedding_site(make_hookline, embedder)
    apps = await _two_applications(site)
    embedder.page_with("allowed", await _link(site, "alpha"))

    await tab.goto(embedder.origin(0) + "/allowed")
    await expect(tab.get_by_role("heading", name="Our app")).to_be_visible()
    frame = tab.frame_locator("iframe[title='Webhooks portal']")
    await expect(frame.get_by_role("heading", name="Webhooks")).to_be_visible()
    await expect(frame.get_by_role("link", name=apps.a_hook["callback_url"])).to_be_visible()
    await expect(frame.get_by_text(apps.b_hook["callback_url"])).to_have_count(0)
    # Inside the frame the portal works: its links navigate within it.
    await frame.get_by_role("link", name=apps.a_hook["callback_url"]).click()
    await expect(frame.get_by_role("heading", name="Webhook")).to_be_visible()
    assert tab.url == embedder.origin(0) + "/allowed"
    no_problems(tab)


async def test_the_portal_refuses_an_iframe_of_another_origin(
    make_hookline: Callable[..., Awaitable[Running]], embedder: Embedder, tab: Page
) -> None:
    site = await _embedding_site(make_hookline, embedder)
    apps = await _two_applications(site)
    link = await _link(site, "alpha")
    embedder.page_with("refused", link)
    refusals: list[str] = []
    tab.on(
        "console",
        lambda msg: refusals.append(msg.text) if "frame-ancestors" in msg.text else None,
    )

    await tab.goto(embedder.origin(1) + "/refused")
    await expect(tab.get_by_role("heading", name="Our app")).to_be_visible()
    for _ in range(100):
        if refusals:
            break
        await asyncio.sleep(0.1)
    assert refusals, "Chromium did not report the frame-ancestors refusal"
    assert embedder.origin(0) in refusals[0]
    # The frame did reach the server (the link is used up), but Chromium showed nothing
    # of what came back.
    async with httpx.AsyncClient() as c:
        assert (await c.get(link)).status_code == 401
    frame = tab.frame_locator("iframe[title='Webhooks portal']")
    await expect(frame.get_by_text(apps.a_hook["callback_url"])).to_have_count(0)
    await expect(frame.get_by_role("heading", name="Webhooks")).to_have_count(0)
    (inner,) = [f for f in tab.frames if f is not tab.main_frame]
    assert not inner.url.startswith(site.url), inner.url
