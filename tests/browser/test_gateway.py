"""The gateway pages: an owner's APIs and earnings, pausing and resuming an API; a
consumer's balance, the catalog, its calls with their results and webhooks, its ledger.

The API is listed and called through the JSON API, with a real upstream and a real
receiver of the result webhook; the pages are then read and used in the browser."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import Site, fits_narrow, no_problems, shoot
from tests.support.receiver import Receiver
from tests.support.upstream import Upstream


async def delivered(client: httpx.AsyncClient, call_id: str) -> dict[str, Any]:
    """The call once it has ended and its result webhook has been delivered."""
    async with asyncio.timeout(15):
        while True:
            r = await client.get(f"/v1/calls/{call_id}")
            assert r.status_code == 200, r.text
            call: dict[str, Any] = r.json()
            if [d["status"] for d in call.get("deliveries", [])] == ["succeeded"]:
                return call
            await asyncio.sleep(0.05)


async def test_owner_and_consumer_see_an_api_its_call_and_the_money(
    site: Site,
    tab: Page,
    other: Page,
    upstream: Upstream,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    owner = site.client()
    made = await owner.post(
        "/v1/apis",
        json={
            "name": "Transcribe",
            "description": "Speech to text",
            "upstream_url": upstream.url + "/stt",
            "price": 25,
            "public": True,
            "timeout": 30,
        },
    )
    assert made.status_code == 201, made.text
    api_id = made.json()["api_id"]

    consumer_key, consumer_id = await site.account("Initech")
    funded = await site.running.admin.post(
        f"/v1/accounts/{consumer_id}/credits", json={"amount": 100, "note": "test funds"}
    )
    assert funded.status_code == 201, funded.text
    consumer = site.client(consumer_key)
    r = await consumer.post(
        "/v1/calls",
        json={
            "api_id": api_id,
            "path": "/run",
            "params": {"audio": "a.mp3"},
            "webhook_url": receiver.url + "/results",
        },
    )
    assert r.status_code == 202, r.text
    call_id = r.json()["request_id"]
    (hook,) = await receiver.wait_for(1)
    assert b"call.completed" in hook.body
    await delivered(consumer, call_id)

    # The owner: its API, at its price, active, with what it earned.
    await site.sign_in(tab)
    await tab.get_by_role("link", name="Gateway").click()
    await expect(tab.get_by_role("heading", name="Gateway", exact=True)).to_be_visible()
    apis = tab.get_by_role("table", name="Your APIs")
    row = apis.get_by_role("row").filter(has_text="Transcribe")
    await expect(row.get_by_role("cell")).to_have_text(
        [f"Transcribe{api_id}", "25", "active", "public", "25"]
    )
    await expect(tab.locator("#earned")).to_have_text("25")
    await expect(tab.locator("#balance")).to_have_text("25")
    owner_ledger = tab.get_by_role("table", name="Ledger")
    await expect(owner_ledger).to_contain_text("earning")
    await expect(owner_ledger).to_contain_text("+25")
    await shoot(tab, "gateway", tmp_path)

    # Its page: details with the upstream URL, earnings, and pause / resume.
    await row.get_by_role("link", name="Transcribe").click()
    await expect(tab).to_have_url(f"{site.url}/console/gateway/apis/{api_id}")
    await expect(tab.get_by_role("heading", name="Transcribe")).to_contain_text("active")
    await expect(tab.get_by_text(upstream.url + "/stt")).to_be_visible()
    await expect(tab.locator("#api-earned")).to_have_text("25")
    await expect(tab.get_by_role("table", name="Earnings by month")).to_contain_text("25")
    await tab.get_by_role("button", name="Pause").click()
    await expect(tab.get_by_role("status")).to_contain_text("API paused")
    await expect(tab.get_by_role("heading", name="Transcribe")).to_contain_text("paused")
    refused = await consumer.post("/v1/calls", json={"api_id": api_id})
    assert refused.status_code == 409
    assert refused.json()["code"] == "api_paused"
    await tab.get_by_role("button", name="Resume").focus()
    await tab.keyboard.press("Enter")
    await expect(tab.get_by_role("status")).to_contain_text("API resumed")
    await expect(tab.get_by_role("heading", name="Transcribe")).to_contain_text("active")
    assert (await owner.get(f"/v1/apis/{api_id}")).json()["status"] == "active"

    # The consumer: balance after the charge, the catalog, the call, the ledger.
    await site.sign_in(other, consumer_key)
    await other.goto(site.url + "/console/gateway")
    await expect(other.locator("#balance")).to_have_text("75")
    await expect(other.locator("#reserved")).to_have_text("0")
    catalog = other.get_by_role("table", name="Catalog")
    await expect(catalog).to_contain_text("Transcribe")
    await expect(catalog).to_contain_text(api_id)
    await expect(catalog).to_contain_text("Speech to text")
    calls = other.get_by_role("table", name="Your calls")
    call_row = calls.get_by_role("row").filter(has_text=call_id)
    await expect(call_row).to_contain_text("Transcribe")
    await expect(call_row).to_contain_text("succeeded")
    await expect(call_row).to_contain_text("HTTP 200")
    await expect(call_row).to_contain_text('{"answer": 42}')
    ledger = other.get_by_role("table", name="Ledger")
    await expect(ledger.get_by_role("row")).to_have_count(3)
    await expect(ledger.get_by_role("row").nth(1)).to_contain_text("charge")
    await expect(ledger.get_by_role("row").nth(1)).to_contain_text("-25")
    await expect(ledger.get_by_role("row").nth(2)).to_contain_text("+100")
    await expect(ledger.get_by_role("row").nth(2)).to_contain_text("test funds")
    await expect(other.get_by_role("table", name="Your APIs")).to_have_count(0)

    # Searching the catalog.
    search = other.get_by_label("Search the catalog")
    await search.fill("no such thing")
    await search.press("Enter")
    await expect(other.get_by_text("No public API matches that search.")).to_be_visible()
    await other.get_by_label("Search the catalog").fill("speech")
    await other.get_by_role("button", name="Search").click()
    await expect(other.get_by_role("table", name="Catalog")).to_contain_text("Transcribe")

    # The call's page: status, result, webhook delivery, and what it cost.
    await calls.get_by_role("link", name=call_id).click()
    await expect(other).to_have_url(f"{site.url}/console/gateway/calls/{call_id}")
    await expect(other.locator("#call-status")).to_have_text("succeeded")
    await expect(other.locator("#call-result")).to_contain_text('"answer": 42')
    await expect(other.locator("#call-cost")).to_have_text("25")
    await expect(other.get_by_text(receiver.url + "/results")).to_be_visible()
    hooks = other.get_by_role("table", name="Webhook deliveries")
    await expect(hooks.get_by_role("row").nth(1)).to_contain_text("call.completed")
    await expect(hooks.get_by_role("row").nth(1)).to_contain_text("succeeded")
    await expect(hooks.get_by_role("row").nth(1)).to_contain_text("HTTP 200")
    await expect(other.get_by_role("table", name="Requests to the upstream")).to_contain_text(
        "HTTP 200"
    )
    await expect(other.get_by_role("table", name="Ledger entries")).to_contain_text("-25")
    await fits_narrow(other, tmp_path / "call-narrow.png")

    # Another account's API and call are not found from here.
    answer = await other.goto(f"{site.url}/console/gateway/apis/{api_id}")
    assert answer is not None
    assert answer.status == 404
    answer = await tab.goto(f"{site.url}/console/gateway/calls/{call_id}")
    assert answer is not None
    assert answer.status == 404
    # Nor can the consumer pause the owner's API.
    await other.goto(site.url + "/console/gateway")
    token = await other.locator("input[name=csrf]").first.get_attribute("value")
    cookie = {c["name"]: c["value"] for c in await other.context.cookies()}["hookline_console"]
    async with httpx.AsyncClient(base_url=site.url, cookies={"hookline_console": cookie}) as c:
        r = await c.post(f"/console/gateway/apis/{api_id}/pause", data={"csrf": token})
    assert r.status_code == 404
    assert (await owner.get(f"/v1/apis/{api_id}")).json()["status"] == "active"
    no_problems(tab)
    no_problems(other)


async def test_the_ledger_and_calls_page_through_older_entries(
    site: Site, tab: Page, upstream: Upstream, tmp_path: Path
) -> None:
    for n in range(21):
        r = await site.running.admin.post(
            f"/v1/accounts/{site.account_id}/credits", json={"amount": 1, "note": f"credit {n}"}
        )
        assert r.status_code == 201, r.text
    client = site.client()
    made = await client.post(
        "/v1/apis", json={"name": "Mine", "upstream_url": upstream.url, "price": 0}
    )
    api_id = made.json()["api_id"]
    ids = []
    for _ in range(21):
        r = await client.post("/v1/calls", json={"api_id": api_id})
        assert r.status_code == 202, r.text
        ids.append(r.json()["request_id"])

    await site.sign_in(tab)
    await tab.goto(site.url + "/console/gateway")
    await expect(tab.locator("#balance")).to_have_text("21")
    ledger = tab.get_by_role("table", name="Ledger")
    await expect(ledger.get_by_role("row")).to_have_count(21)  # header + 20
    await expect(ledger).to_contain_text("credit 20")
    await expect(ledger).not_to_contain_text("credit 0")
    calls = tab.get_by_role("table", name="Your calls")
    await expect(calls.get_by_role("row")).to_have_count(21)
    await expect(calls).to_contain_text(ids[-1])
    await expect(calls).not_to_contain_text(ids[0])

    await tab.get_by_role("link", name="Older entries").click()
    await expect(ledger.get_by_role("row")).to_have_count(2)
    await expect(ledger).to_contain_text("credit 0")
    # The calls stay where they were.
    await expect(calls).to_contain_text(ids[-1])
    await tab.get_by_role("link", name="Older calls").click()
    await expect(calls.get_by_role("row")).to_have_count(2)
    await expect(calls).to_contain_text(ids[0])
    await expect(ledger).to_contain_text("credit 0")
    await tab.get_by_role("link", name="Newest entries").click()
    await expect(ledger).to_contain_text("credit 20")
    await expect(calls).to_contain_text(ids[0])

    await fits_narrow(tab, tmp_path / "gateway-narrow.png")
    no_problems(tab)


async def test_the_admin_has_no_gateway(site: Site, tab: Page, admin_key: str) -> None:
    await site.sign_in(tab, admin_key)
    answer = await tab.goto(site.url + "/console/gateway")
    assert answer is not None
    assert answer.status == 403
    await expect(tab.get_by_role("alert")).to_contain_text("for an account")
