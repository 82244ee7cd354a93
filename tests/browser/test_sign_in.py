"""Signing in to the console with an API key, and what a session may and may not do."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import Site, no_problems, shoot
from tests.support.receiver import Reply


async def test_sign_in_shows_the_overview_and_sign_out_ends_the_session(
    site: Site, tab: Page, tmp_path: Path
) -> None:
    await tab.goto(site.url + "/console")
    await expect(tab).to_have_url(site.url + "/console/sign-in")
    await tab.get_by_label("API key").fill("hk_not_a_key")
    await tab.get_by_role("button", name="Sign in").click()
    await expect(tab.get_by_role("alert")).to_contain_text("not valid")

    await site.sign_in(tab)
    await expect(tab.get_by_role("heading", name="Overview")).to_be_visible()
    await expect(tab.get_by_role("img", name="Deliveries finished per minute")).to_be_visible()

    cookies = {c["name"]: c for c in await tab.context.cookies()}
    session = cookies["hookline_console"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert session["path"] == "/console"

    await tab.get_by_role("button", name="Sign out").click()
    await expect(tab).to_have_url(site.url + "/console/sign-in")
    # The old cookie is dead on the server too, not only forgotten by the browser.
    async with httpx.AsyncClient(
        base_url=site.url, cookies={"hookline_console": session["value"]}
    ) as c:
        r = await c.get("/console/webhooks")
    assert r.status_code == 303
    assert r.headers["location"] == "/console/sign-in"
    no_problems(tab)


async def test_a_revoked_key_ends_its_console_sessions(site: Site, tab: Page) -> None:
    client = site.client()
    made = await client.post("/v1/keys", json={"name": "browser"})
    assert made.status_code == 201, made.text
    key = made.json()
    await site.sign_in(tab, key["key"])
    await expect(tab.get_by_role("heading", name="Overview")).to_be_visible()
    assert (await client.delete(f"/v1/keys/{key['key_id']}")).status_code == 200
    await tab.reload()
    await expect(tab).to_have_url(site.url + "/console/sign-in")


async def test_forms_without_the_session_csrf_token_are_refused(site: Site, tab: Page) -> None:
    await site.sign_in(tab)
    cookie = {c["name"]: c["value"] for c in await tab.context.cookies()}["hookline_console"]
    async with httpx.AsyncClient(base_url=site.url, cookies={"hookline_console": cookie}) as c:
        r = await c.post("/console/sign-out", data={"csrf": "forged"})
        assert r.status_code == 403
        assert "csrf_refused" in r.text
        assert r.headers["content-type"].startswith("text/html")
        # A page of another site posting with the right token is refused by its Origin.
        token = await tab.locator("input[name=csrf]").first.get_attribute("value")
        r = await c.post(
            "/console/sign-out", data={"csrf": token}, headers={"Origin": "https://evil.example"}
        )
        assert r.status_code == 403
    await tab.reload()
    await expect(tab.get_by_role("heading", name="Overview")).to_be_visible()


async def test_pages_forbid_framing_and_outside_scripts(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url) as c:
        r = await c.get("/console/sign-in")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert r.headers["x-frame-options"] == "DENY"


async def test_the_admin_key_opens_the_admin_pages(site: Site, tab: Page, admin_key: str) -> None:
    await site.sign_in(tab, admin_key)
    await expect(tab).to_have_url(site.url + "/console/admin")


async def test_the_overview_counts_deliveries_as_they_finish(
    site: Site, tab: Page, make_receiver: Any, tmp_path: Path
) -> None:
    ok = await make_receiver(None)
    down = await make_receiver(lambda _r, _n: Reply(status=500))
    client = site.client()
    for url, events in ((ok.url, "order.paid"), (down.url, "order.failed")):
        r = await client.post(
            "/v1/webhooks",
            json={"callback_url": url, "events": [events], "retry_policy": {"schedule": []}},
        )
        assert r.status_code == 201, r.text
    await site.sign_in(tab)
    chart = tab.get_by_role("img", name="Deliveries finished per minute")
    await expect(chart).to_have_attribute("aria-label", re.compile("0 succeeded, 0 failed"))
    for kind, n in (("order.paid", 3), ("order.failed", 2)):
        for i in range(n):
            r = await client.post("/v1/events", json={"type": kind, "data": {"n": i}})
            assert r.status_code == 202, r.text
    await ok.wait_for(3)
    await down.wait_for(2)
    # The chart follows the attempts without a reload.
    await expect(chart).to_have_attribute(
        "aria-label", re.compile("3 succeeded, 2 failed"), timeout=10_000
    )
    await tab.reload()
    # A green and a red bar (two of each when the deliveries straddled a minute).
    assert 2 <= await tab.locator("svg.chart rect").count() <= 4
    await expect(tab.get_by_role("table").first).to_contain_text(down.url)
    await shoot(tab, "overview", tmp_path)
