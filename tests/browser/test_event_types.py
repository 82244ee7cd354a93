"""The event-type catalog pages: the list, one type's schema and example, and the form
that registers a type (and says why it refuses one)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser.conftest import Site, no_problems, shoot

SCHEMA = {
    "type": "object",
    "required": ["amount", "currency"],
    "properties": {"amount": {"type": "integer"}, "currency": {"type": "string"}},
}


async def open_catalog(tab: Page) -> None:
    nav = tab.get_by_role("navigation", name="Console")
    await nav.get_by_role("link", name="Event types").click()
    await expect(tab.get_by_role("heading", name="Event types", exact=True)).to_be_visible()


async def test_the_catalog_shows_a_types_schema_and_example(
    site: Site, tab: Page, tmp_path: Path
) -> None:
    client = site.client()
    r = await client.post(
        "/v1/event-types",
        json={
            "name": "invoice.paid",
            "description": "An invoice was paid in full",
            "schema": SCHEMA,
            "example": {"amount": 4200, "currency": "EUR"},
        },
    )
    assert r.status_code == 201, r.text
    r = await client.post("/v1/event-types", json={"name": "user.deleted"})
    assert r.status_code == 201, r.text

    await site.sign_in(tab)
    await open_catalog(tab)
    rows = tab.locator("table.event-types tbody tr")
    await expect(rows).to_have_count(2)
    paid = rows.filter(has_text="invoice.paid")
    await expect(paid).to_contain_text("An invoice was paid in full")
    await expect(paid).to_contain_text("yes")
    await expect(rows.filter(has_text="user.deleted")).to_contain_text("no")
    await shoot(tab, "event-types", tmp_path)

    await paid.get_by_role("link", name="invoice.paid").click()
    await expect(tab.get_by_role("heading", name="Event type invoice.paid")).to_be_visible()
    await expect(tab.get_by_text("An invoice was paid in full")).to_be_visible()
    schema = await tab.locator("#schema").text_content()
    example = await tab.locator("#example").text_content()
    assert schema is not None
    assert example is not None
    # Pretty-printed, indented JSON of what was registered.
    assert '\n  "required": [\n    "amount",\n    "currency"\n  ],' in schema
    assert '"amount": {\n      "type": "integer"\n    }' in schema
    assert example.strip() == '{\n  "amount": 4200,\n  "currency": "EUR"\n}'

    await tab.get_by_role("link", name="Event types", exact=True).first.click()
    await rows.filter(has_text="user.deleted").get_by_role("link").click()
    await expect(tab.get_by_text("None: any data is accepted.")).to_be_visible()
    no_problems(tab)


async def test_the_form_refuses_invalid_json_and_schemas_then_registers(
    site: Site, tab: Page
) -> None:
    await site.sign_in(tab)
    await open_catalog(tab)
    await tab.get_by_label("Name").fill("order.shipped")
    await tab.get_by_label("Description").fill("An order left the warehouse")
    await tab.get_by_label("JSON Schema").fill('{"type": "object", "required": ["carrier"]')
    async with tab.expect_response(lambda r: r.request.method == "POST") as answer:
        await tab.get_by_role("button", name="Register").click()
    assert (await answer.value).status == 422
    await expect(tab.get_by_role("alert")).to_contain_text("Schema is not valid JSON")
    # What was typed is kept, to be corrected.
    await expect(tab.get_by_label("Name")).to_have_value("order.shipped")
    await expect(tab.get_by_label("JSON Schema")).to_have_value(
        '{"type": "object", "required": ["carrier"]'
    )

    # Valid JSON, but not a schema.
    await tab.get_by_label("JSON Schema").fill('{"type": "parcel"}')
    async with tab.expect_response(lambda r: r.request.method == "POST") as answer:
        await tab.get_by_role("button", name="Register").click()
    assert (await answer.value).status == 422
    await expect(tab.get_by_role("alert")).to_contain_text("schema:")

    # A schema, with an example that does not match it.
    await tab.get_by_label("JSON Schema").fill('{"type": "object", "required": ["carrier"]}')
    await tab.get_by_label("Example data").fill('{"tracking": "1Z999"}')
    async with tab.expect_response(lambda r: r.request.method == "POST") as answer:
        await tab.get_by_role("button", name="Register").click()
    assert (await answer.value).status == 422
    await expect(tab.get_by_role("alert")).to_contain_text("example does not match the schema")

    await tab.get_by_label("Example data").fill('{"carrier": "UPS"}')
    await tab.get_by_role("button", name="Register").click()
    await expect(tab).to_have_url(re.compile(r"/console/event-types/order\.shipped$"))
    await expect(tab.get_by_role("status")).to_contain_text("Event type saved")
    await expect(tab.locator("#example")).to_contain_text('"carrier": "UPS"')
    r = await site.client().get("/v1/event-types/order.shipped")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["schema"] == {"type": "object", "required": ["carrier"]}
    assert body["description"] == "An order left the warehouse"

    # The same name again is refused, in the form.
    await open_catalog(tab)
    await tab.get_by_label("Name").fill("order.shipped")
    async with tab.expect_response(lambda r: r.request.method == "POST") as answer:
        await tab.get_by_role("button", name="Register").click()
    assert (await answer.value).status == 409
    await expect(tab.get_by_role("alert")).to_contain_text("already exists")
    no_problems(tab)
