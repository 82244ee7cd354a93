"""Async API calls in ``hold`` mode: real Hookline, a real upstream, a real consumer
receiver, real SQLite."""

from __future__ import annotations

from typing import Any

import orjson
from standardwebhooks import Webhook

from tests.integration.gateway.conftest import MakeParty
from tests.support.gateway import balance, call, list_api, until_final
from tests.support.receiver import Receiver
from tests.support.server import Running
from tests.support.upstream import Got, Upstream, stuck


async def test_hold_call_end_to_end(
    hookline: Running, upstream: Upstream, receiver: Receiver, make_party: MakeParty
) -> None:
    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer", credit=100)
    api = await list_api(owner, upstream.url + "/v2", price=25, timeout=30)

    r = await consumer.client.post(
        "/v1/calls",
        json={
            "api_id": api["api_id"],
            "method": "POST",
            "path": "/infer",
            "params": {"prompt": "hi"},
            "webhook_url": receiver.url + "/results",
        },
    )
    assert r.status_code == 202, r.text
    accepted = r.json()
    call_id = accepted["request_id"]
    assert call_id.startswith("call_")
    assert accepted["status"] == "queued"
    assert r.headers["location"] == accepted["status_url"]
    assert accepted["status_url"].endswith(f"/v1/calls/{call_id}")
    assert accepted["cancel_url"] == accepted["status_url"] + "/cancel"

    (got,) = await upstream.wait_for(1)
    assert (got.method, got.path) == ("POST", "/v2/infer")
    assert got.json() == {"prompt": "hi"}
    assert got.headers["hookline-request-id"] == call_id
    assert got.headers["hookline-api-id"] == api["api_id"]

    (hook,) = await receiver.wait_for(1)
    secret = (await consumer.client.get("/v1/signing-secret")).json()["secret"]
    event = Webhook(secret).verify(hook.body, hook.headers)
    assert event["type"] == "call.completed"
    assert event["idempotency_key"] == call_id
    data = event["data"]
    assert data == {
        "request_id": call_id,
        "api_id": api["api_id"],
        "status": "succeeded",
        "result": {"status_code": 200, "body": {"answer": 42}},
        "error": None,
        "cost": 25,
        "test": False,
        "created_at": data["created_at"],
        "completed_at": data["completed_at"],
    }
    assert data["completed_at"] >= data["created_at"]

    done = await until_final(consumer, call_id)
    assert done["status"] == "succeeded"
    assert done["result"] == {"status_code": 200, "body": {"answer": 42}}
    assert [d["type"] for d in done["deliveries"]] == ["call.completed"]

    # Captured: the consumer paid 25, the owner earned 25, and the entries sum to zero.
    assert await balance(consumer) == (75, 0)
    assert await balance(owner) == (25, 0)
    mine = (await consumer.client.get("/v1/ledger", params={"call_id": call_id})).json()["data"]
    theirs = (await owner.client.get("/v1/ledger", params={"call_id": call_id})).json()["data"]
    assert [(e["kind"], e["amount"]) for e in mine] == [("charge", -25)]
    assert [(e["kind"], e["amount"]) for e in theirs] == [("earning", 25)]
    assert mine[0]["settlement_id"] == theirs[0]["settlement_id"] == call_id

    # The result endpoint lives in the gateway application: not among the webhooks.
    assert (await consumer.client.get("/v1/webhooks")).json()["data"] == []


async def test_webhook_url_inside_params_and_idempotency_key(
    hookline: Running, upstream: Upstream, receiver: Receiver, make_party: MakeParty
) -> None:
    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer", credit=10)
    api = await list_api(owner, upstream.url, price=10)
    body = {
        "api_id": api["api_id"],
        "params": {"q": 1, "webhook_url": receiver.url},
        "idempotency_key": "order-7",
    }
    first = (await consumer.client.post("/v1/calls", json=body)).json()
    again = await consumer.client.post("/v1/calls", json=body)
    assert again.status_code == 202
    assert again.json()["request_id"] == first["request_id"]
    assert again.json()["duplicate"] is True
    (got,) = await upstream.wait_for(1)
    assert got.json() == {"q": 1}  # Hookline's field is not forwarded
    (hook,) = await receiver.wait_for(1)
    assert orjson.loads(hook.body)["data"]["request_id"] == first["request_id"]
    await until_final(consumer, first["request_id"])
    assert await balance(consumer) == (0, 0)  # charged once
    assert len(upstream.received) == 1


async def test_get_sends_params_as_query(
    hookline: Running, upstream: Upstream, make_party: MakeParty
) -> None:
    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer")
    api = await list_api(owner, upstream.url)
    c = await call(consumer, api["api_id"], method="GET", path="report", params={"year": 2026})
    (got,) = await upstream.wait_for(1)
    assert (got.method, got.path, got.query) == ("GET", "/report", {"year": "2026"})
    assert (await until_final(consumer, c["request_id"]))["status"] == "succeeded"


async def test_transient_failures_are_retried(
    make_hookline: Any, receiver: Receiver, make_party: MakeParty
) -> None:
    async def flaky(_got: Got, n: int) -> tuple[int, Any, dict[str, str]]:
        return (503, {"busy": True}, {}) if n < 2 else (200, {"ok": n}, {})

    upstream = await Upstream(flaky).start()
    try:
        hookline = await make_hookline(upstream_retry_base=0.02)
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=5)
        api = await list_api(owner, upstream.url, price=5)
        c = await call(consumer, api["api_id"], webhook_url=receiver.url)
        done = await until_final(consumer, c["request_id"])
        assert done["status"] == "succeeded"
        assert done["result"] == {"status_code": 200, "body": {"ok": 2}}
        assert len(upstream.received) == 3
        assert await balance(consumer) == (0, 0)
    finally:
        await upstream.stop()


async def test_transient_failures_give_up_and_release(
    make_hookline: Any, make_party: MakeParty
) -> None:
    async def down(_got: Got, _n: int) -> tuple[int, Any, dict[str, str]]:
        return 502, {"gateway": "bad"}, {}

    upstream = await Upstream(down).start()
    try:
        hookline = await make_hookline(upstream_retry_base=0.01)
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=5)
        api = await list_api(owner, upstream.url, price=5)
        c = await call(consumer, api["api_id"])
        done = await until_final(consumer, c["request_id"])
        assert done["status"] == "failed"
        assert done["error"]["code"] == "upstream_unavailable"
        assert len(upstream.received) == 4  # bounded
        assert await balance(consumer) == (5, 0)
        assert await balance(owner) == (0, 0)
    finally:
        await upstream.stop()


async def test_other_errors_are_the_result(
    hookline: Running, receiver: Receiver, make_party: MakeParty
) -> None:
    async def refuse(_got: Got, _n: int) -> tuple[int, Any, dict[str, str]]:
        return 400, {"error": "prompt too long"}, {}

    upstream = await Upstream(refuse).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=3)
        api = await list_api(owner, upstream.url, price=3)
        c = await call(consumer, api["api_id"], webhook_url=receiver.url)
        (hook,) = await receiver.wait_for(1)
        data = orjson.loads(hook.body)["data"]
        assert data["status"] == "failed"
        assert data["result"] == {"status_code": 400, "body": {"error": "prompt too long"}}
        assert data["error"]["code"] == "upstream_error"
        assert data["cost"] == 0
        assert len(upstream.received) == 1  # not retried
        assert (await until_final(consumer, c["request_id"]))["status"] == "failed"
        assert await balance(consumer) == (3, 0)
    finally:
        await upstream.stop()


async def test_timeout_releases_and_tells_the_consumer(
    hookline: Running, receiver: Receiver, make_party: MakeParty
) -> None:
    upstream = await Upstream(stuck).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=9)
        api = await list_api(owner, upstream.url, price=9, timeout=30)
        c = await call(consumer, api["api_id"], webhook_url=receiver.url, timeout=0.3)
        assert c["timeout"] == 0.3
        (hook,) = await receiver.wait_for(1)
        data = orjson.loads(hook.body)["data"]
        assert data["status"] == "timed_out"
        assert data["error"]["code"] == "timeout"
        assert await balance(consumer) == (9, 0)
    finally:
        await upstream.stop()
