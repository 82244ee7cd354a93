"""The event catalog over real HTTP: registering types, schemas checked on publish,
archiving."""

from __future__ import annotations

from typing import Any

from tests.support.receiver import Receiver
from tests.support.server import Running, settled

TRANSFER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["address", "quantity"],
    "properties": {
        "address": {"type": "string", "pattern": "^addr[0-9a-z]+$"},
        "quantity": {"type": "integer", "minimum": 0},
    },
}
EXAMPLE = {"address": "addr1q9", "quantity": 7}


async def test_register_read_list_and_change(hookline: Running) -> None:
    acme = await hookline.new_account()
    r = await acme.post(
        "/v1/event-types",
        json={
            "name": "token.received",
            "description": "an address received tokens",
            "schema": TRANSFER_SCHEMA,
            "example": EXAMPLE,
        },
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["name"] == "token.received"
    assert created["schema"] == TRANSFER_SCHEMA
    assert created["example"] == EXAMPLE
    assert created["archived"] is False
    again = await acme.post("/v1/event-types", json={"name": "token.received"})
    assert again.status_code == 409
    assert again.json()["code"] == "event_type_exists"

    got = (await acme.get("/v1/event-types/token.received")).json()
    assert got == created
    for name in ("token.sent", "invoice.paid", "invoice.voided"):
        assert (await acme.post("/v1/event-types", json={"name": name})).status_code == 201
    invoices = (await acme.get("/v1/event-types", params={"prefix": "invoice."})).json()
    assert sorted(t["name"] for t in invoices["data"]) == ["invoice.paid", "invoice.voided"]
    # Cursor pagination walks everything, newest first.
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await acme.get("/v1/event-types", params=params)).json()
        seen += [t["name"] for t in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["invoice.voided", "invoice.paid", "token.sent", "token.received"]

    r = await acme.patch("/v1/event-types/token.sent", json={"description": "sent"})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "sent"
    assert r.json()["version"] == 2
    # Types are per account.
    other = await hookline.new_account("other")
    assert (await other.get("/v1/event-types/token.sent")).status_code == 404
    assert (await other.get("/v1/event-types")).json()["data"] == []


async def test_bad_schemas_and_examples_are_refused(hookline: Running) -> None:
    acme = await hookline.new_account()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "a", "schema": {"type": "nope"}}, "invalid_schema"),
        ({"name": "a", "schema": "string"}, "invalid_schema"),
        ({"name": "a", "schema": {"$ref": "https://example.com/s.json"}}, "invalid_schema"),
        (
            {"name": "a", "schema": {"$schema": "http://json-schema.org/draft-07/schema#"}},
            "invalid_schema",
        ),
        ({"name": "a", "schema": TRANSFER_SCHEMA, "example": {"quantity": -1}}, "invalid_example"),
        ({"name": "not valid!"}, "invalid_event_type"),
        ({"name": "a", "schema": {"maximum": 2**70}}, "integer_out_of_range"),
        ({"name": "a", "example": {"wei": 2**70}}, "integer_out_of_range"),
    ]
    for body, code in cases:
        r = await acme.post("/v1/event-types", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == code, (body, r.text)
    assert (await acme.get("/v1/event-types")).json()["data"] == []
    # A schema change must keep the example valid.
    await acme.post("/v1/event-types", json={"name": "a", "example": {"q": "x"}})
    r = await acme.patch("/v1/event-types/a", json={"schema": TRANSFER_SCHEMA})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_example"
    assert r.json()["details"][0]["path"] == ""


async def test_publishing_is_checked_against_the_schema(
    hookline: Running, receiver: Receiver
) -> None:
    acme = await hookline.new_account()
    await acme.post("/v1/webhooks", json={"callback_url": receiver.url})
    await acme.post(
        "/v1/event-types",
        json={"name": "token.received", "schema": TRANSFER_SCHEMA, "example": EXAMPLE},
    )
    r = await acme.post(
        "/v1/events",
        json={"type": "token.received", "data": {"address": "addr1", "quantity": "many"}},
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "schema_mismatch"
    assert body["details"] == [{"path": "/quantity", "message": '"many" is not of type "integer"'}]

    r = await acme.post(
        "/v1/events/batch",
        json={
            "events": [
                {"type": "token.received", "data": EXAMPLE},
                {"type": "untyped", "data": {"anything": True}},
                {"type": "token.received", "data": {"quantity": 1}},
            ]
        },
    )
    assert r.status_code == 422
    assert r.json()["code"] == "schema_mismatch"
    assert "events[2]" in r.json()["error"]
    assert r.json()["details"] == [
        {"index": 2, "path": "", "message": '"address" is a required property'}
    ]
    # Nothing of a refused batch was stored or sent.
    assert (await acme.get("/v1/events")).json()["data"] == []

    ok = await acme.post("/v1/events", json={"type": "token.received", "data": EXAMPLE})
    assert ok.status_code == 202, ok.text
    untyped = await acme.post("/v1/events", json={"type": "untyped", "data": [1, 2]})
    assert untyped.status_code == 202  # types outside the catalog publish as before
    await settled(acme, ok.json()["event_id"])
    await receiver.wait_for(2)

    # A schema removed or changed applies to the next publish.
    await acme.patch("/v1/event-types/token.received", json={"schema": None})
    r = await acme.post("/v1/events", json={"type": "token.received", "data": {"q": 1}})
    assert r.status_code == 202, r.text
    await acme.patch("/v1/event-types/token.received", json={"schema": TRANSFER_SCHEMA})
    r = await acme.post("/v1/events", json={"type": "token.received", "data": {"q": 1}})
    assert r.status_code == 422


async def test_archived_types_refuse_new_events_until_unarchived(hookline: Running) -> None:
    acme = await hookline.new_account()
    await acme.post("/v1/event-types", json={"name": "legacy.thing", "example": {"a": 1}})
    r = await acme.delete("/v1/event-types/legacy.thing")
    assert r.status_code == 200
    assert r.json()["archived"] is True
    assert r.json()["archived_at"] is not None
    # Still readable, listed only on request.
    assert (await acme.get("/v1/event-types/legacy.thing")).json()["archived"] is True
    assert (await acme.get("/v1/event-types")).json()["data"] == []
    listed = (await acme.get("/v1/event-types", params={"include_archived": "true"})).json()
    assert [t["name"] for t in listed["data"]] == ["legacy.thing"]

    r = await acme.post("/v1/events", json={"type": "legacy.thing", "data": {}})
    assert r.status_code == 409
    assert r.json()["code"] == "event_type_archived"
    r = await acme.post(
        "/v1/events/batch", json={"events": [{"type": "x"}, {"type": "legacy.thing"}]}
    )
    assert r.status_code == 409
    assert "events[1]" in r.json()["error"]

    # Only a JSON boolean: 0 is not converted to false.
    r = await acme.patch("/v1/event-types/legacy.thing", json={"archived": 0})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    r = await acme.patch("/v1/event-types/legacy.thing", json={"archived": False})
    assert r.json()["archived"] is False
    assert (await acme.post("/v1/events", json={"type": "legacy.thing"})).status_code == 202
    assert (await acme.delete("/v1/event-types/nope")).status_code == 404


async def test_the_example_is_readable_for_test_sends(hookline: Running) -> None:
    acme = await hookline.new_account()
    await acme.post(
        "/v1/event-types",
        json={"name": "token.received", "schema": TRANSFER_SCHEMA, "example": EXAMPLE},
    )
    principal = await hookline.system.accounts.authenticate(acme.headers["authorization"])
    owner = principal.require_account()
    assert await hookline.system.event_types.example(owner, "token.received") == (
        b'{"address":"addr1q9","quantity":7}'
    )
    assert await hookline.system.event_types.example(owner, "unknown") is None
