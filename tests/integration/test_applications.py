"""Applications in the native API: named by id or uid, events and webhooks scoped to
one, the default one when none is named; and webhooks' payload_format."""

from __future__ import annotations

import orjson
import pytest
import standardwebhooks

from tests.support.server import Running

pytestmark = pytest.mark.slow


async def test_applications_by_id_or_uid(hookline: Running) -> None:
    acme = await hookline.new_account()
    r = await acme.post(
        "/v1/applications", json={"name": "Shop", "uid": "shop", "metadata": {"k": "v"}}
    )
    assert r.status_code == 201, r.text
    app = r.json()
    assert (app["uid"], app["metadata"], app["object"]) == ("shop", {"k": "v"}, "application")
    assert (await acme.get("/v1/applications/shop")).json()["application_id"] == app[
        "application_id"
    ]
    taken = await acme.post("/v1/applications", json={"name": "again", "uid": "shop"})
    assert (taken.status_code, taken.json()["code"]) == (409, "application_uid_taken")
    reserved = await acme.post("/v1/applications", json={"name": "g", "uid": "gateway"})
    assert reserved.status_code == 422
    patched = await acme.patch("/v1/applications/shop", json={"name": "Shop 2", "uid": "shop2"})
    assert patched.json()["name"] == "Shop 2"
    assert (await acme.get("/v1/applications/shop")).status_code == 404
    uids = {a["uid"] for a in (await acme.get("/v1/applications")).json()["data"]}
    assert uids == {"default", "shop2"}
    no_default = await acme.delete("/v1/applications/default")
    assert (no_default.status_code, no_default.json()["code"]) == (409, "default_application")
    # Another account sees none of it.
    other = await hookline.new_account("other")
    assert (await other.get("/v1/applications/shop2")).status_code == 404
    assert (await other.get(f"/v1/applications/{app['application_id']}")).status_code == 404


async def test_events_reach_only_their_applications_webhooks(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline()
    default_rx, shop_rx = await make_receiver(), await make_receiver()
    acme = await hookline.new_account()
    await acme.post("/v1/applications", json={"name": "Shop", "uid": "shop"})
    await acme.post("/v1/webhooks", json={"callback_url": default_rx.url})
    r = await acme.post(
        "/v1/webhooks",
        json={"callback_url": shop_rx.url, "application": "shop", "payload_format": "raw"},
    )
    assert r.status_code == 201, r.text
    hook = r.json()
    assert hook["payload_format"] == "raw"
    listed = (await acme.get("/v1/webhooks", params={"application": "shop"})).json()["data"]
    assert [w["webhook_id"] for w in listed] == [hook["webhook_id"]]
    assert len((await acme.get("/v1/webhooks")).json()["data"]) == 1

    sent = await acme.post(
        "/v1/events", json={"type": "order.paid", "data": {"n": 1}, "application": "shop"}
    )
    assert sent.status_code == 202, sent.text
    (raw,) = await shop_rx.wait_for(1)
    # raw: the data alone, signed under both header families.
    assert orjson.loads(raw.body) == {"n": 1}
    headers = {k.lower(): v for k, v in raw.headers.items()}
    assert headers["svix-id"] == headers["webhook-id"] == sent.json()["event_id"]
    standardwebhooks.Webhook(hook["secret"]).verify(raw.body, headers)
    await acme.post("/v1/events", json={"type": "order.paid", "data": {"n": 2}})
    (envelope,) = await default_rx.wait_for(1)
    assert orjson.loads(envelope.body)["data"] == {"n": 2}
    assert len(shop_rx.received) == 1
    missing = await acme.post("/v1/events", json={"type": "a.b", "application": "nope"})
    assert (missing.status_code, missing.json()["code"]) == (404, "application_not_found")

    # Back to envelope, from the native API.
    await acme.patch(f"/v1/webhooks/{hook['webhook_id']}", json={"payload_format": "envelope"})
    await acme.post(
        "/v1/events", json={"type": "order.paid", "data": {"n": 3}, "application": "shop"}
    )
    second = (await shop_rx.wait_for(2))[1]
    assert orjson.loads(second.body)["data"] == {"n": 3}

    # Deleting the application deletes its webhooks.
    assert (await acme.delete("/v1/applications/shop")).status_code == 200
    gone = await acme.get(f"/v1/webhooks/{hook['webhook_id']}")
    assert gone.json()["status"] == "deleted"
    recreated = await acme.post("/v1/applications", json={"name": "Shop", "uid": "shop"})
    assert recreated.status_code == 201
