"""The webhooks pages, clicked through as a person would: create a webhook with an event
type from the catalog and a trigger rule, see it route, test it, reveal and rotate its
secret, disable, enable, edit, recover, delete."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser.conftest import Site, no_problems, shoot
from tests.support.receiver import Receiver


async def _catalog(site: Site, *names: str) -> None:
    client = site.client()
    for name in names:
        r = await client.post(
            "/v1/event-types",
            json={"name": name, "description": f"{name} happened", "example": {"amount": 7}},
        )
        assert r.status_code == 201, r.text


async def test_create_a_webhook_with_a_rule_in_the_form_and_it_routes_as_the_rule_says(
    site: Site, tab: Page, receiver: Receiver, tmp_path: Path
) -> None:
    await _catalog(site, "invoice.paid", "invoice.voided")
    await site.sign_in(tab)
    await tab.get_by_role("link", name="Webhooks").click()
    await tab.get_by_role("link", name="New webhook").click()
    await tab.get_by_label("Endpoint URL").fill(receiver.url + "/hook")
    await tab.get_by_label("Description").fill("billing")
    await tab.get_by_label("invoice.paid").check()
    await tab.get_by_role("button", name="Add a rule").click()
    await tab.get_by_label("Field").fill("amount")
    await tab.get_by_label("Operator").select_option(">")
    await tab.get_by_label("Value").fill("100")
    await tab.get_by_label("Retry schedule").fill("1, 2")
    await tab.get_by_label("Rate limit").fill("5")
    await shoot(tab, "webhook-form", tmp_path)
    await tab.get_by_role("button", name="Create webhook").click()

    await expect(tab.get_by_role("status")).to_contain_text("Webhook created")
    await expect(tab.locator("dl.facts")).to_contain_text("amount > 100")
    webhook_id = tab.url.rsplit("/", 1)[1]
    got = (await site.client().get(f"/v1/webhooks/{webhook_id}")).json()
    assert got["events"] == ["invoice.paid"]
    assert got["rules"] == [{"field": "amount", "operator": ">", "value": 100}]
    assert got["retry_policy"] == {"schedule": [1.0, 2.0]}
    assert got["rate_limit"] == 5

    client = site.client()
    for amount in (50, 500):
        r = await client.post(
            "/v1/events", json={"type": "invoice.paid", "data": {"amount": amount}}
        )
        assert r.status_code == 202, r.text
    (arrived,) = await receiver.wait_for(1)
    assert json.loads(arrived.body)["data"] == {"amount": 500}
    assert await receiver.quiet(0.5) == 0
    await shoot(tab, "webhook", tmp_path)
    no_problems(tab)


async def test_an_invalid_form_is_shown_again_with_the_error_and_what_was_typed(
    site: Site, tab: Page
) -> None:
    await site.sign_in(tab)
    await tab.goto(site.url + "/console/webhooks/new")
    await tab.get_by_label("Endpoint URL").fill("http://10.1.2.3/private")
    await tab.get_by_label("Description").fill("kept")
    await tab.get_by_role("button", name="Create webhook").click()
    await expect(tab.get_by_role("alert")).to_be_visible()
    await expect(tab.get_by_label("Description")).to_have_value("kept")
    assert (await site.client().get("/v1/webhooks")).json()["data"] == []


async def test_test_event_secret_disable_enable_edit_recover_and_delete(
    site: Site, tab: Page, receiver: Receiver
) -> None:
    client = site.client()
    made = await client.post("/v1/webhooks", json={"callback_url": receiver.url})
    assert made.status_code == 201, made.text
    webhook = made.json()
    await site.sign_in(tab)
    await tab.goto(site.url + f"/console/webhooks/{webhook['webhook_id']}")

    # The test delivery appears in the page without a reload.
    await expect(tab.locator("#recent")).to_contain_text("No deliveries yet")
    await tab.get_by_role("button", name="Send test event").click()
    await expect(tab.get_by_role("status")).to_contain_text("Test event sent")
    (arrived,) = await receiver.wait_for(1)
    assert json.loads(arrived.body)["type"] == "hookline.test"
    assert "webhook-signature" in arrived.headers
    await client.post(f"/v1/webhooks/{webhook['webhook_id']}/test", json={})
    await receiver.wait_for(2)
    await expect(tab.locator("#recent tbody tr")).to_have_count(2, timeout=8000)

    await tab.get_by_role("button", name="Reveal secret").click()
    await expect(tab.locator("#secret-value")).to_have_text(webhook["secret"])
    tab.once("dialog", lambda d: d.accept())
    await tab.get_by_role("button", name="Rotate secret").click()
    await expect(tab.get_by_role("status")).to_contain_text("Secret rotated")
    rotated = (await client.get(f"/v1/webhooks/{webhook['webhook_id']}/secret")).json()
    assert rotated["secret"] != webhook["secret"]

    await tab.get_by_role("button", name="Disable").click()
    await expect(tab.get_by_role("status")).to_contain_text("Webhook disabled")
    assert (await client.get(f"/v1/webhooks/{webhook['webhook_id']}")).json()["active"] is False
    await tab.get_by_role("button", name="Enable").click()
    await expect(tab.get_by_role("status")).to_contain_text("Webhook enabled")

    await tab.get_by_role("link", name="Edit").click()
    await tab.get_by_label("Endpoint URL").fill(receiver.url + "/moved")
    await tab.get_by_label("Ordering").select_option("fifo")
    await tab.get_by_role("button", name="Save").click()
    await expect(tab.get_by_role("status")).to_contain_text("Webhook saved")
    got = (await client.get(f"/v1/webhooks/{webhook['webhook_id']}")).json()
    assert got["callback_url"] == receiver.url + "/moved"
    assert got["ordering"] == "fifo"

    await tab.get_by_label("Since").fill("2020-01-01T00:00")
    await tab.get_by_role("button", name="Recover").click()
    await expect(tab.get_by_role("status")).to_contain_text("Recovery started")

    tab.once("dialog", lambda d: d.accept())
    await tab.get_by_role("button", name="Delete").click()
    await expect(tab.get_by_role("status")).to_contain_text("Webhook deleted")
    assert (await client.get(f"/v1/webhooks/{webhook['webhook_id']}")).json()["status"] == "deleted"
    no_problems(tab)


async def test_another_accounts_webhook_is_a_404_page_and_its_forms_change_nothing(
    site: Site, tab: Page, receiver: Receiver
) -> None:
    other_key, _ = await site.account("Other")
    other = site.client(other_key)
    theirs = (await other.post("/v1/webhooks", json={"callback_url": receiver.url})).json()
    await site.sign_in(tab)
    token = json.loads(await tab.locator("body").get_attribute("hx-headers") or "")["X-CSRF-Token"]
    r = await tab.goto(site.url + f"/console/webhooks/{theirs['webhook_id']}")
    assert r is not None
    assert r.status == 404
    await expect(tab.get_by_role("alert")).to_contain_text("webhook not found")
    answer = await tab.request.post(
        site.url + f"/console/webhooks/{theirs['webhook_id']}/disable",
        form={"csrf": token},
        headers={"Origin": site.url},
    )
    assert answer.status == 404
    assert (await other.get(f"/v1/webhooks/{theirs['webhook_id']}")).json()["active"] is True
    secret = await tab.request.get(site.url + f"/console/webhooks/{theirs['webhook_id']}/secret")
    assert secret.status == 404
    assert theirs["secret"] not in await secret.text()
