"""Every console page: each form control has a label, the page fits a phone-sized
screen without scrolling sideways, and it can be used from the keyboard alone."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import Site
from tests.support.receiver import Receiver

# A control is labelled by a <label for>, a wrapping <label>, or aria-label(ledby).
UNLABELLED = """
() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))
"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


async def _pages(site: Site, receiver: Receiver) -> list[str]:
    client = site.client()
    made = await client.post("/v1/webhooks", json={"callback_url": receiver.url + "/a/long/path"})
    assert made.status_code == 201, made.text
    webhook = made.json()["webhook_id"]
    r = await client.post("/v1/events", json={"type": "order.paid", "data": {"order": 1}})
    assert r.status_code == 202, r.text
    await receiver.wait_for(1)
    found = (await client.get(f"/v1/events/{r.json()['event_id']}")).json()
    delivery = found["deliveries"][0]["delivery_id"]
    await client.post(
        "/v1/event-types", json={"name": "order.paid", "description": "an order was paid"}
    )
    return [
        "/console",
        "/console/webhooks",
        "/console/webhooks/new",
        f"/console/webhooks/{webhook}",
        f"/console/webhooks/{webhook}/edit",
        "/console/events",
        f"/console/events/{found['event_id']}",
        f"/console/deliveries/{delivery}",
        "/console/event-types",
        "/console/event-types/order.paid",
        "/console/gateway",
        "/console/portal",
    ]


async def test_every_control_is_labelled_and_pages_fit_a_narrow_screen(
    site: Site, browser: Browser, receiver: Receiver
) -> None:
    pages = await _pages(site, receiver)
    for width, height in ((1280, 800), (390, 844)):
        context = await browser.new_context(viewport={"width": width, "height": height})
        try:
            tab = await context.new_page()
            await site.sign_in(tab)
            for path in pages:
                answer = await tab.goto(site.url + path)
                assert answer is not None
                assert answer.status == 200, path
                assert await tab.evaluate(UNLABELLED) == [], path
                assert await tab.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways at {width}px"
        finally:
            await context.close()


async def test_the_console_works_from_the_keyboard(site: Site, tab: Page) -> None:
    await tab.goto(site.url + "/console")
    # Sign in: the key field has the focus; Enter submits. The browser moves the focus
    # at its next rendering after the load, so typing waits for it rather than racing it.
    await expect(tab.get_by_label("API key")).to_be_focused()
    await tab.keyboard.type(site.key)
    await tab.keyboard.press("Enter")
    await expect(tab.get_by_role("heading", name="Overview")).to_be_visible()
    # The first Tab reaches the skip link, which moves on to the content.
    await tab.keyboard.press("Tab")
    skip = tab.get_by_role("link", name="Skip to content")
    await expect(skip).to_be_focused()
    await tab.keyboard.press("Enter")
    assert tab.url.endswith("#main")
    # Tab through the navigation to Webhooks, then create one without the mouse.
    await tab.get_by_role("link", name="Webhooks", exact=True).focus()
    await tab.keyboard.press("Enter")
    await expect(tab.get_by_role("heading", name="Webhooks")).to_be_visible()
    await tab.get_by_role("link", name="New webhook").focus()
    await tab.keyboard.press("Enter")
    await tab.get_by_label("Endpoint URL").focus()
    await tab.keyboard.type("http://127.0.0.1:9/keyboard")
    # The focus is visible where it lands.
    outline = await tab.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    await tab.keyboard.press("Enter")
    await expect(tab.get_by_role("status")).to_contain_text("Webhook created")
