"""The catalog, input errors, egress rules, and result webhooks as ordinary deliveries."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from tests.integration.gateway.conftest import MakeParty
from tests.support.gateway import call, list_api, until_final
from tests.support.receiver import Receiver, Reply
from tests.support.server import Running
from tests.support.upstream import Upstream


async def test_register_update_pause_delete(
    hookline: Running, upstream: Upstream, make_party: MakeParty
) -> None:
    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer")
    r = await owner.client.post(
        "/v1/apis",
        json={
            "name": "Transcribe",
            "description": "Speech to text, minutes of audio",
            "upstream_url": upstream.url + "/t",
            "completion": "callback",
            "timeout": 600,
            "price": 12,
            "public": True,
            "max_concurrency": 4,
        },
    )
    assert r.status_code == 201, r.text
    api = r.json()
    assert api["api_id"].startswith("api_")
    assert (api["upstream_url"], api["status"], api["idempotent"]) == (
        upstream.url + "/t",
        "active",
        False,
    )
    await list_api(owner, upstream.url, name="Private report", public=False)

    async def listed(q: str | None = None) -> list[dict[str, Any]]:
        r = await consumer.client.get("/v1/catalog", params={"q": q} if q else None)
        # Only this owner's entries, so a database shared with other tests does not matter.
        return [a for a in r.json()["data"] if a["owner_id"] == owner.account_id]

    found = await listed("speech")
    assert [a["api_id"] for a in found] == [api["api_id"]]
    assert "upstream_url" not in found[0]
    assert found[0]["price"] == 12
    assert [a["name"] for a in await listed()] == ["Transcribe"]  # the private one is not
    assert await listed("100%") == []
    assert await listed("no such words") == []
    entry = await consumer.client.get(f"/v1/catalog/{api['api_id']}")
    assert entry.status_code == 200
    assert "upstream_url" not in entry.json()

    r = await owner.client.patch(f"/v1/apis/{api['api_id']}", json={"price": 15, "name": "STT"})
    assert (r.json()["price"], r.json()["name"]) == (15, "STT")
    owned = (await owner.client.get("/v1/apis")).json()["data"]
    assert len(owned) == 2
    # Another account cannot see or change it as an owner.
    assert (await consumer.client.get(f"/v1/apis/{api['api_id']}")).status_code == 404
    assert (
        await consumer.client.patch(f"/v1/apis/{api['api_id']}", json={"price": 0})
    ).status_code == 404

    r = await owner.client.post(f"/v1/apis/{api['api_id']}/pause")
    assert r.json()["status"] == "paused"
    r = await consumer.client.post("/v1/calls", json={"api_id": api["api_id"], "test": True})
    assert (r.status_code, r.json()["code"]) == (409, "api_paused")
    assert await listed() == []
    r = await owner.client.post(f"/v1/apis/{api['api_id']}/resume")
    assert r.json()["status"] == "active"

    r = await owner.client.delete(f"/v1/apis/{api['api_id']}")
    assert r.json()["status"] == "deleted"
    assert (await owner.client.get(f"/v1/apis/{api['api_id']}")).status_code == 404
    r = await consumer.client.post("/v1/calls", json={"api_id": api["api_id"]})
    assert (r.status_code, r.json()["code"]) == (404, "api_not_found")


async def test_bad_input_gets_stable_codes(
    hookline: Running, upstream: Upstream, make_party: MakeParty
) -> None:
    owner = await make_party(hookline, "owner")
    good = {"name": "x", "upstream_url": upstream.url}
    for change, code in (
        ({"upstream_url": "ftp://example.com"}, "invalid_url"),
        ({"timeout": 0}, "invalid_timeout"),
        ({"price": -1}, "invalid_price"),
        ({"max_concurrency": 0}, "invalid_max_concurrency"),
        ({"completion": "poll"}, "validation_error"),
        ({"surprise": 1}, "validation_error"),
    ):
        r = await owner.client.post("/v1/apis", json=good | change)
        assert r.status_code == 422, (change, r.text)
        assert r.json()["code"] == code, change
    api = await list_api(owner, upstream.url)
    base = {"api_id": api["api_id"]}
    for change, status, code in (
        ({"method": "TRACE"}, 422, "invalid_method"),
        ({"path": "/../admin"}, 422, "invalid_path"),
        ({"path": "//evil.example/x"}, 422, "invalid_path"),
        ({"params": {"a": 1}, "body": {"b": 2}}, 422, "invalid_call"),
        ({"webhook_url": "file:///etc/passwd"}, 422, "invalid_url"),
        ({"timeout": -1}, 422, "invalid_timeout"),
        ({"api_id": "api_01ARZ3NDEKTSV4RRFFQ69G5FAV"}, 404, "api_not_found"),
        ({"api_id": "nonsense"}, 404, "api_not_found"),
    ):
        r = await owner.client.post("/v1/calls", json=base | change)
        assert (r.status_code, r.json()["code"]) == (status, code), (change, r.text)
    r = await owner.client.get("/v1/calls/call_01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert (r.status_code, r.json()["code"]) == (404, "call_not_found")
    r = await owner.client.post("/v1/calls/call_01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel")
    assert r.status_code == 404
    assert (await hookline.admin.post("/v1/calls", json=base)).status_code == 403
    async with hookline.client("wrong") as stranger:
        assert (await stranger.get("/v1/catalog")).status_code == 401


async def test_upstream_urls_follow_the_egress_rules(
    make_hookline: Any, make_party: MakeParty
) -> None:
    hookline = await make_hookline(egress_allow="")
    owner = await make_party(hookline, "owner")
    for url in ("http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/"):
        r = await owner.client.post("/v1/apis", json={"name": "n", "upstream_url": url})
        assert (r.status_code, r.json()["code"]) == (422, "url_not_allowed"), url
    # The consumer's webhook URL obeys the same rules (the call is refused, not queued).
    api = await list_api(owner, "http://93.184.216.34/", public=True)
    r = await owner.client.post(
        "/v1/calls", json={"api_id": api["api_id"], "webhook_url": "http://127.0.0.1:9/hook"}
    )
    assert (r.status_code, r.json()["code"]) == (422, "url_not_allowed")
    r = await owner.client.patch(
        f"/v1/apis/{api['api_id']}", json={"upstream_url": "http://169.254.169.254/"}
    )
    assert (r.status_code, r.json()["code"]) == (422, "url_not_allowed")


async def test_results_are_ordinary_deliveries_with_retries_and_replay(
    make_hookline: Any, upstream: Upstream, make_receiver: Any, make_party: MakeParty
) -> None:
    hookline = await make_hookline(retry_schedule="0.05,0.05")
    receiver: Receiver = await make_receiver(lambda _r, n: Reply(status=500) if n == 0 else Reply())
    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer")
    api = await list_api(owner, upstream.url)
    c = await call(consumer, api["api_id"], webhook_url=receiver.url)
    first, second = await receiver.wait_for(2)
    assert first.body == second.body
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    done = await until_final(consumer, c["request_id"])
    (delivery,) = done["deliveries"]
    async with asyncio.timeout(10):  # the worker records attempts just after sending
        while (
            log := (await consumer.client.get(f"/v1/deliveries/{delivery['delivery_id']}")).json()
        )["status"] != "succeeded":
            await asyncio.sleep(0.02)
    assert [a["status_code"] for a in log["attempts"]] == [500, 200]
    # Replay, exactly as for an event.
    r = await consumer.client.post(f"/v1/deliveries/{delivery['delivery_id']}/retry")
    assert r.status_code == 202
    third = (await receiver.wait_for(3))[2]
    assert orjson.loads(third.body)["data"]["request_id"] == c["request_id"]
    # Result endpoints stay out of the webhook list and out of event fan-out.
    assert (await consumer.client.get("/v1/webhooks")).json()["data"] == []
    ev = (await consumer.client.post("/v1/events", json={"type": "a.b"})).json()
    assert ev["deliveries"] == 0


async def test_signing_secret_rotation(
    hookline: Running, upstream: Upstream, receiver: Receiver, make_party: MakeParty
) -> None:
    from standardwebhooks import Webhook

    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer")
    api = await list_api(owner, upstream.url)
    old = (await consumer.client.get("/v1/signing-secret")).json()["secret"]
    await until_final(
        consumer, (await call(consumer, api["api_id"], webhook_url=receiver.url))["request_id"]
    )
    new = (await consumer.client.post("/v1/signing-secret/rotate")).json()["secret"]
    assert new != old
    await until_final(
        consumer, (await call(consumer, api["api_id"], webhook_url=receiver.url))["request_id"]
    )
    _, hook = await receiver.wait_for(2)
    Webhook(new).verify(hook.body, hook.headers)
    Webhook(old).verify(hook.body, hook.headers)  # still signed with both for a while
