"""The events pages: searching deliveries, one event, one delivery with its retry, the
attempt inspector, retrying all matching deliveries, the table following new attempts,
and what another account's or application's ids show (nothing).

Webhooks and events are made through the JSON API (or, for the scoping tests, the
services), with real receivers; the pages are then used in the browser."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Dialog, Page, expect

from hookline.domain.models import DeliveryStatus
from hookline.services.events import EventInput
from hookline.services.webhooks import WebhookSpec
from hookline.system import System
from tests.browser.conftest import Site, fits_narrow, no_problems, shoot
from tests.support.receiver import Receiver, Reply, Script
from tests.support.server import settled

MakeReceiver = Callable[[Script | None], Awaitable[Receiver]]


def switchable(state: dict[str, bool]) -> Script:
    """Answers 500 "boom" while ``state["fail"]``, then 200 "thanks"."""
    return lambda _r, _n: Reply(500, "boom") if state["fail"] else Reply(200, "thanks")


async def hook(client: httpx.AsyncClient, url: str, **extra: Any) -> dict[str, Any]:
    r = await client.post("/v1/webhooks", json={"callback_url": url, **extra})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def publish(client: httpx.AsyncClient, kind: str, data: Any) -> str:
    r = await client.post("/v1/events", json={"type": kind, "data": data})
    assert r.status_code == 202, r.text
    return str(r.json()["event_id"])


async def accept_dialogs(tab: Page) -> None:
    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    tab.on("dialog", accept)


async def open_events(site: Site, tab: Page) -> None:
    await tab.get_by_role("navigation", name="Console").get_by_role("link", name="Events").click()
    await expect(tab.get_by_role("heading", name="Events", exact=True)).to_be_visible()


async def filter_status(tab: Page, status: str) -> None:
    await tab.get_by_label("Status").select_option(status)
    await tab.get_by_role("button", name="Filter").click()
    await expect(tab).to_have_url(re.compile(rf"status={status}"))


async def test_a_failed_delivery_is_found_inspected_and_retried(
    site: Site, tab: Page, make_receiver: MakeReceiver, tmp_path: Path
) -> None:
    state = {"fail": True}
    rx = await make_receiver(switchable(state))
    client = site.client()
    await hook(
        client,
        rx.url + "/hooks?src=hl",
        events=["invoice.*"],
        retry_policy={"schedule": []},
        headers={"X-Api-Key": "s3cr3t-value", "X-Tenant": "blue"},
        secret_headers=["X-Api-Key"],
    )
    # A delivery that succeeded, which the status filter must leave out.
    ok = await make_receiver(None)
    await hook(client, ok.url, events=["user.*"])
    event_id = await publish(client, "invoice.paid", {"amount": 42, "note": "π ü"})
    other_id = await publish(client, "user.created", {"id": 7})
    (got,) = await rx.wait_for(1)
    (delivery,) = (await settled(client, event_id))["deliveries"]
    assert delivery["status"] == "failed"
    delivery_id = delivery["delivery_id"]
    (attempt,) = delivery["attempts"]
    await settled(client, other_id)

    await site.sign_in(tab)
    await open_events(site, tab)
    # Unfiltered, both deliveries show; filtered by failed, only the failed one.
    await expect(tab.get_by_role("link", name=re.compile("^Event user.created"))).to_be_visible()
    await filter_status(tab, "failed")
    rows = tab.locator("#deliveries tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("invoice.paid")
    await expect(rows.first).to_contain_text("failed")
    await expect(rows.first).to_contain_text(rx.url + "/hooks?src=hl")
    await shoot(tab, "events", tmp_path)
    await fits_narrow(tab)

    await rows.first.get_by_role("link", name=delivery_id).click()
    await expect(tab.get_by_role("heading", name="Delivery", exact=True)).to_be_visible()
    await expect(tab.locator("#delivery-state")).to_have_text("failed")
    # A finished delivery can be retried, not cancelled.
    await expect(tab.get_by_role("button", name="Cancel delivery")).to_have_count(0)

    await tab.get_by_role("link", name=attempt["attempt_id"]).click()
    await expect(tab.get_by_role("heading", name="Attempt", exact=True)).to_be_visible()
    await expect(tab.locator("#request-line")).to_have_text(f"POST {rx.url}/hooks?src=hl")
    headers = tab.get_by_role("table", name="Request headers, in the order sent")
    signature = headers.get_by_role("row", name=re.compile("^webhook-signature "))
    await expect(signature).to_contain_text(got.headers["webhook-signature"])
    await expect(headers.get_by_role("row", name=re.compile("^webhook-id "))).to_contain_text(
        got.headers["webhook-id"]
    )
    # The secret custom header is masked as the API masks it; the other one is not.
    await expect(headers.get_by_role("row", name=re.compile("^X-Api-Key "))).to_contain_text(
        "********"
    )
    await expect(headers.get_by_role("row", name=re.compile("^X-Tenant "))).to_contain_text("blue")
    assert "s3cr3t-value" not in await tab.content()
    # The headers in the order they were sent, and the body byte for byte.
    names = [n.strip() for n in await headers.locator("tbody th").all_text_contents()]
    api = (await client.get(f"/v1/attempts/{attempt['attempt_id']}")).json()
    assert names == [k for k, _ in api["request"]["headers"]]
    assert await tab.locator("#request-body").text_content() == got.body.decode()
    await expect(tab.locator("#response-status")).to_contain_text("500")
    assert await tab.locator("#response-body").text_content() == "boom"
    await shoot(tab, "attempt", tmp_path)
    await fits_narrow(tab)

    # The receiver is fixed: Retry sends the delivery once more, and the page follows.
    state["fail"] = False
    await tab.get_by_role("link", name=f"Delivery {delivery_id}").click()
    await tab.get_by_role("button", name="Retry").click()
    await expect(tab.get_by_role("status")).to_contain_text("queued to be sent again")
    await expect(tab.locator("#delivery-state")).to_have_text("succeeded")
    await rx.wait_for(2)
    await expect(tab.locator("#delivery-status table.attempts tbody tr")).to_have_count(2)
    await expect(tab.get_by_role("button", name="Retry")).to_be_visible()

    # The event: its payload pretty-printed, and its delivery with both attempts.
    await tab.get_by_role("link", name="invoice.paid", exact=True).click()
    await expect(tab.get_by_role("heading", name="Event invoice.paid")).to_be_visible()
    await expect(tab.get_by_text(event_id, exact=True)).to_be_visible()
    payload = await tab.locator("#payload").text_content()
    assert payload is not None
    assert '\n  "amount": 42,' in payload
    assert '"note": "π ü"' in payload
    section = tab.get_by_role("region", name=re.compile(delivery_id))
    await expect(section).to_contain_text("succeeded")
    await expect(section.locator("tbody tr")).to_have_count(2)
    no_problems(tab)


async def test_retry_all_matching_sends_the_failed_deliveries_again(
    site: Site, tab: Page, make_receiver: MakeReceiver
) -> None:
    state = {"fail": True}
    flaky = await make_receiver(switchable(state))
    steady = await make_receiver(None)
    client = site.client()
    await hook(client, flaky.url, retry_policy={"schedule": []})
    await hook(client, steady.url)
    events = [await publish(client, "order.created", {"n": n}) for n in range(2)]
    for e in events:
        await settled(client, e)
    assert len(steady.received) == 2
    state["fail"] = False

    await site.sign_in(tab)
    await open_events(site, tab)
    await filter_status(tab, "failed")
    await expect(tab.locator("#deliveries tbody tr")).to_have_count(2)
    await accept_dialogs(tab)
    await tab.get_by_role("button", name="Retry all matching").click()
    await expect(tab.get_by_role("status")).to_contain_text("being sent again")
    # Back on the same filter.
    await expect(tab.get_by_label("Status")).to_have_value("failed")
    await flaky.wait_for(4)
    for e in events:
        detail = await settled(client, e)
        assert {d["status"] for d in detail["deliveries"]} == {"succeeded"}
    # Only what matched was sent again: the steady webhook's deliveries had succeeded.
    assert await steady.quiet(0.3) == 0
    assert len(steady.received) == 2
    await filter_status(tab, "succeeded")
    await expect(tab.locator("#deliveries tbody tr")).to_have_count(4)
    await filter_status(tab, "failed")
    await expect(tab.get_by_text("No deliveries match")).to_be_visible()
    # Deliveries still on their way cannot be retried in bulk: no button is offered.
    await filter_status(tab, "pending")
    await expect(tab.get_by_role("button", name="Retry all matching")).to_have_count(0)
    no_problems(tab)


async def test_a_new_attempt_appears_in_the_table_without_reloading(
    site: Site, tab: Page, receiver: Receiver
) -> None:
    client = site.client()
    await hook(client, receiver.url)
    await site.sign_in(tab)
    async with tab.expect_response(lambda r: "/console/live" in r.url):
        await open_events(site, tab)
    await expect(tab.get_by_text("No deliveries match")).to_be_visible()
    await tab.evaluate("window.stillTheSamePage = true")
    await asyncio.sleep(0.5)  # the stream notes the newest attempt it starts from

    event_id = await publish(client, "user.signed_up", {"email": "ada@example.com"})
    link = tab.get_by_role("link", name=f"Event user.signed_up {event_id}")
    await expect(link).to_be_visible()
    await expect(tab.locator("#deliveries tbody tr").first).to_contain_text("succeeded")
    assert await tab.evaluate("window.stillTheSamePage") is True
    no_problems(tab)


async def test_a_held_delivery_is_cancelled_from_its_page(
    site: Site, tab: Page, receiver: Receiver
) -> None:
    client = site.client()
    webhook = await hook(client, receiver.url)
    r = await client.patch(f"/v1/webhooks/{webhook['webhook_id']}", json={"active": False})
    assert r.status_code == 200, r.text
    event_id = await publish(client, "invoice.voided", {"invoice": "in_1"})
    (delivery,) = (await client.get(f"/v1/events/{event_id}")).json()["deliveries"]
    assert delivery["status"] == "held"

    await site.sign_in(tab)
    await tab.goto(site.url + f"/console/deliveries/{delivery['delivery_id']}")
    await expect(tab.locator("#delivery-state")).to_have_text("held")
    await expect(tab.get_by_role("button", name="Retry")).to_have_count(0)
    await accept_dialogs(tab)
    await tab.get_by_role("button", name="Cancel delivery").click()
    await expect(tab.get_by_role("status")).to_contain_text("Delivery cancelled")
    await expect(tab.locator("#delivery-state")).to_have_text("cancelled")
    await expect(tab.get_by_role("button", name="Cancel delivery")).to_have_count(0)
    after = (await client.get(f"/v1/deliveries/{delivery['delivery_id']}")).json()
    assert after["status"] == "cancelled"
    # Its webhook is disabled: retrying it is refused, on a page that says why.
    await tab.get_by_role("button", name="Retry").click()
    await expect(tab.get_by_role("alert")).to_contain_text("re-enable it first")
    assert len(receiver.received) == 0
    no_problems(tab)


async def _attempted(sys: System, account_id: str, event_id: str) -> tuple[str, str]:
    """The event's delivery and attempt once its one delivery has finished."""
    async with asyncio.timeout(10):
        while True:
            detail = await sys.events.get(account_id, event_id)
            (d,) = detail.deliveries
            if d.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
                return d.id, detail.attempts[d.id][0].id
            await asyncio.sleep(0.05)


async def test_another_accounts_ids_are_not_found(
    site: Site, tab: Page, receiver: Receiver
) -> None:
    sys = site.running.system
    other, _key = await sys.accounts.create_account("Globex")
    app_id = await sys.applications.app_id(other.id, None)
    await sys.webhooks.create(other.id, app_id, WebhookSpec(url=receiver.url))
    published = await sys.events.publish(other.id, "secret.plans", b'{"plan": "x"}', None)
    event_id = published.message.id
    delivery_id, attempt_id = await _attempted(sys, other.id, event_id)

    await site.sign_in(tab)
    for path in (
        f"/events/{event_id}",
        f"/deliveries/{delivery_id}",
        f"/deliveries/{delivery_id}/status",
        f"/attempts/{attempt_id}",
    ):
        r = await tab.goto(site.url + "/console" + path)
        assert r is not None
        assert r.status == 404, path
        await expect(tab.get_by_role("alert")).to_contain_text("not found")
        assert "secret.plans" not in await tab.content()
    # Nor can its delivery be retried from this console, with a valid form token.
    await tab.goto(site.url + "/console/events")
    await expect(tab.get_by_text("No deliveries match")).to_be_visible()
    token = await tab.locator("input[name=csrf]").first.get_attribute("value")
    assert token
    r2 = await tab.request.post(
        site.url + f"/console/deliveries/{delivery_id}/retry", form={"csrf": token}
    )
    assert r2.status == 404
    assert await receiver.quiet(0.3) == 0
    assert len(receiver.received) == 1
    no_problems(tab)


async def test_the_portal_shows_and_retries_only_its_application(
    site: Site, tab: Page, make_receiver: MakeReceiver
) -> None:
    sys = site.running.system
    account = site.account_id
    ours = await sys.applications.app_id(account, None)
    theirs = (await sys.applications.create(account, name="Initech")).id
    failing = lambda _r, _n: Reply(500, "boom")  # noqa: E731
    rx_ours, rx_theirs = await make_receiver(failing), await make_receiver(failing)
    for app, rx in ((ours, rx_ours), (theirs, rx_theirs)):
        await sys.webhooks.create(
            account, app, WebhookSpec(url=rx.url, retry_policy={"schedule": []})
        )
    (mine,) = await sys.events.publish_batch(
        account, [EventInput("order.paid", b'{"n": 1}')], app_id=ours
    )
    (not_mine,) = await sys.events.publish_batch(
        account, [EventInput("order.refunded", b'{"n": 2}')], app_id=theirs
    )
    await _attempted(sys, account, mine.message.id)
    delivery_id, attempt_id = await _attempted(sys, account, not_mine.message.id)

    link = await sys.console.issue_portal_link(account, ours, None)
    await tab.goto(site.url + f"/portal/enter/{link.token}")
    await tab.goto(site.url + "/portal/events")
    await expect(tab.get_by_role("heading", name="Events", exact=True)).to_be_visible()
    rows = tab.locator("#deliveries tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("order.paid")
    await expect(tab.get_by_label("Application")).to_have_count(0)
    for path in (
        f"/events/{not_mine.message.id}",
        f"/deliveries/{delivery_id}",
        f"/attempts/{attempt_id}",
    ):
        r = await tab.goto(site.url + "/portal" + path)
        assert r is not None
        assert r.status == 404, path
        assert "order.refunded" not in await tab.content()

    # Retrying all failed deliveries in the portal leaves the other application's alone.
    await tab.goto(site.url + "/portal/events")
    await accept_dialogs(tab)
    await tab.get_by_role("button", name="Retry all matching").click()
    await expect(tab.get_by_role("status")).to_contain_text("being sent again")
    await rx_ours.wait_for(2)
    assert await rx_theirs.quiet(1.0) == 0
    assert len(rx_theirs.received) == 1
    no_problems(tab)
