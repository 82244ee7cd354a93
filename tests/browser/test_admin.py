"""The admin's pages: creating accounts and keys (each key shown once), adding credits,
revoking keys; and that only the admin key opens them."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.async_api import Dialog, Page, expect

from tests.browser.conftest import Site, fits_narrow, no_problems, shoot


async def accept(dialog: Dialog) -> None:
    await dialog.accept()


async def test_admin_creates_an_account_credits_it_and_revokes_its_key(
    site: Site, tab: Page, other: Page, admin_key: str, tmp_path: Path
) -> None:
    await site.sign_in(tab, admin_key)
    await expect(tab).to_have_url(site.url + "/console/admin")
    await expect(tab.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    # The account the site made through the API is listed.
    await expect(tab.get_by_role("link", name="Acme")).to_be_visible()

    # Create an account from the keyboard: type the name, press Enter.
    name = tab.get_by_label("Name")
    await name.fill("Globex")
    async with tab.expect_response(lambda r: r.request.method == "POST") as answered:
        await name.press("Enter")
    created = await answered.value
    assert created.status == 201
    await expect(tab.get_by_role("heading", name="Account created")).to_be_visible()
    key = await tab.get_by_role("textbox", name="API key").input_value()
    assert key.startswith("hk_")
    await expect(tab.get_by_role("alert")).to_contain_text("shown only this once")
    # The key travels in neither the URL nor a cookie.
    assert key not in tab.url
    assert all(key not in c["value"] for c in await tab.context.cookies())
    await shoot(tab, "admin", tmp_path)

    # Once: the account's page shows only the key's first characters.
    await tab.get_by_role("link", name="Go to Globex").click()
    await expect(tab.get_by_role("heading", name="Globex")).to_be_visible()
    assert key not in await tab.content()
    keys = tab.get_by_role("table", name="API keys")
    await expect(keys.get_by_role("row")).to_have_count(2)  # header + the default key
    await expect(keys).to_contain_text(key[:8] + "…")
    await expect(tab.locator("#balance")).to_have_text("0")
    account_page = tab.url
    await fits_narrow(tab, tmp_path / "account-narrow.png")

    # Globex signs in with its key in a browser of its own.
    await site.sign_in(other, key)
    await expect(other.get_by_role("heading", name="Overview")).to_be_visible()
    await other.goto(site.url + "/console/gateway")
    await expect(other.locator("#balance")).to_have_text("0")

    # The admin adds credits; the balance shows on both pages.
    await tab.get_by_label("Amount to add (minor units)").fill("1500")
    await tab.get_by_label("Note").fill("welcome top-up")
    await tab.get_by_role("button", name="Add credits").click()
    await expect(tab).to_have_url(account_page)
    await expect(tab.get_by_role("status")).to_have_text("Credits added.")
    await expect(tab.locator("#balance")).to_have_text("1500")
    await other.reload()
    await expect(other.locator("#balance")).to_have_text("1500")
    ledger = other.get_by_role("table", name="Ledger")
    await expect(ledger).to_contain_text("credit")
    await expect(ledger).to_contain_text("+1500")
    await expect(ledger).to_contain_text("welcome top-up")

    # A second key, shown once too, that works with the API.
    await tab.get_by_label("Key name").fill("ci")
    await tab.get_by_role("button", name="Create key").click()
    await expect(tab.get_by_role("heading", name="Key created")).to_be_visible()
    second = await tab.get_by_role("textbox", name="API key").input_value()
    assert second.startswith("hk_")
    assert second != key
    async with httpx.AsyncClient(
        base_url=site.url, headers={"Authorization": f"Bearer {second}"}
    ) as api:
        r = await api.get("/v1/balance")
        assert r.status_code == 200, r.text
        assert r.json()["balance"] == 1500
    await tab.goto(account_page)
    await expect(keys.get_by_role("row")).to_have_count(3)

    # Revoking the first key ends Globex's console session; the other key still works.
    tab.once("dialog", accept)
    await tab.get_by_role("button", name="Revoke key default").click()
    await expect(tab.get_by_role("status")).to_have_text("Key revoked.")
    default_row = keys.get_by_role("row").filter(has_text="default")
    await expect(default_row).to_contain_text("revoked")
    await expect(tab.get_by_role("button", name="Revoke key default")).to_have_count(0)
    await expect(tab.get_by_role("button", name="Revoke key ci")).to_be_visible()
    await other.reload()
    await expect(other).to_have_url(site.url + "/console/sign-in")
    async with httpx.AsyncClient(
        base_url=site.url, headers={"Authorization": f"Bearer {second}"}
    ) as api:
        assert (await api.get("/v1/balance")).status_code == 200
    no_problems(tab)


async def test_dismissing_the_question_keeps_the_key(site: Site, tab: Page, admin_key: str) -> None:
    await site.sign_in(tab, admin_key)
    await tab.get_by_role("link", name="Acme").click()
    tab.once("dialog", lambda d: d.dismiss())
    await tab.get_by_role("button", name="Revoke key default").click()
    await expect(tab.get_by_role("button", name="Revoke key default")).to_be_visible()
    assert (await site.client().get("/v1/balance")).status_code == 200


async def test_account_keys_are_refused_on_the_admin_pages(site: Site, tab: Page) -> None:
    await site.sign_in(tab)
    await expect(tab.get_by_role("heading", name="Overview")).to_be_visible()
    for path in ("/console/admin", f"/console/admin/accounts/{site.account_id}"):
        answer = await tab.goto(site.url + path)
        assert answer is not None
        assert answer.status == 403, path
        await expect(tab.get_by_role("alert")).to_contain_text("for the admin")
    await expect(tab.get_by_role("link", name="Accounts")).to_have_count(0)

    # Nor can an account's session post the admin's forms, with its own valid token.
    await tab.goto(site.url + "/console/gateway")
    token = await tab.locator("input[name=csrf]").first.get_attribute("value")
    cookie = {c["name"]: c["value"] for c in await tab.context.cookies()}["hookline_console"]
    async with httpx.AsyncClient(base_url=site.url, cookies={"hookline_console": cookie}) as c:
        r = await c.post(
            f"/console/admin/accounts/{site.account_id}/credits",
            data={"csrf": token, "amount": "1000"},
        )
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("text/html")
        r = await c.post("/console/admin/accounts", data={"csrf": token, "name": "Mine"})
        assert r.status_code == 403
    balance = (await site.client().get("/v1/balance")).json()["balance"]
    assert balance == 0
    names = [a["name"] for a in (await site.running.admin.get("/v1/accounts")).json()["data"]]
    assert names == ["Acme"]
    no_problems(tab)


async def test_credits_are_checked_as_the_api_checks_them(
    site: Site, tab: Page, admin_key: str
) -> None:
    await site.sign_in(tab, admin_key)
    await tab.get_by_role("link", name="Acme").click()
    token = await tab.locator("input[name=csrf]").first.get_attribute("value")
    cookie = {c["name"]: c["value"] for c in await tab.context.cookies()}["hookline_console"]
    path = f"/console/admin/accounts/{site.account_id}/credits"
    async with httpx.AsyncClient(base_url=site.url, cookies={"hookline_console": cookie}) as c:
        for amount, code in (
            ("0", "invalid_amount"),
            ("ten", "invalid_amount"),
            ("", "invalid_amount"),
        ):
            r = await c.post(path, data={"csrf": token, "amount": amount})
            assert r.status_code == 422, (amount, r.text)
            assert code in r.text
        r = await c.post(path, data={"csrf": token, "amount": "5", "note": "x" * 501})
        assert r.status_code == 422
        r = await c.post(
            "/console/admin/accounts/acct_nope/credits", data={"csrf": token, "amount": "5"}
        )
        assert r.status_code == 404
    assert (await site.client().get("/v1/balance")).json()["balance"] == 0
    # Empty names are refused by the browser already; the server refuses them too.
    await tab.goto(site.url + "/console/admin")
    await expect(tab.get_by_label("Name")).to_have_attribute("required", "")
    async with httpx.AsyncClient(base_url=site.url, cookies={"hookline_console": cookie}) as c:
        r = await c.post("/console/admin/accounts", data={"csrf": token, "name": "  "})
        assert r.status_code == 422
    await tab.reload()
    await expect(tab.get_by_role("link", name=re.compile("Acme"))).to_have_count(1)
