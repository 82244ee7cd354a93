"""A call's own deadline (cancel_after), retries of the upstream by the API's retry_on,
and result retention. Real Hookline, a real upstream, a real consumer receiver."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from tests.integration.gateway.conftest import MakeParty
from tests.support.gateway import balance, call, list_api, until_final, until_status
from tests.support.receiver import Receiver
from tests.support.server import Running
from tests.support.upstream import Got, Upstream, stuck


async def test_deadline_reached_while_queued_aborts_and_releases(
    hookline: Running, receiver: Receiver, make_party: MakeParty
) -> None:
    upstream = await Upstream(stuck).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=100)
        api = await list_api(owner, upstream.url, max_concurrency=1, price=10)
        first = await call(consumer, api["api_id"])
        await until_status(consumer, first["request_id"], "running")

        r = await consumer.client.post(
            "/v1/calls",
            json={"api_id": api["api_id"], "webhook_url": receiver.url + "/done"},
            headers={"Cancel-After": "300ms"},
        )
        assert r.status_code == 202, r.text
        assert r.json()["cancel_at"] is not None
        done = await until_final(consumer, r.json()["request_id"])
        assert done["status"] == "aborted"
        assert done["error"]["code"] == "deadline"
        assert done["cost"] == 0
        assert done["attempts"] == []
        (hook,) = await receiver.wait_for(1)
        assert orjson.loads(hook.body)["data"]["status"] == "aborted"
        assert len(upstream.received) == 1  # it never reached the upstream
        assert await balance(consumer) == (90, 10)  # only the first call's reservation
    finally:
        await upstream.stop()


async def test_deadline_reached_while_running_cancels_the_upstream_request(
    hookline: Running, make_party: MakeParty
) -> None:
    upstream = await Upstream(stuck).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=100)
        api = await list_api(owner, upstream.url, price=10, timeout=60)
        # Long enough for the runner to start the call on a busy machine (a queued call
        # past its deadline is aborted unsent); the upstream never answers, so the
        # deadline still comes while the call is running.
        accepted = await call(consumer, api["api_id"], cancel_after="2s")
        await upstream.wait_for(1)
        done = await until_final(consumer, accepted["request_id"])
        assert done["status"] == "cancelled"
        assert done["error"]["code"] == "deadline"
        async with asyncio.timeout(5):
            while upstream.aborted < 1:
                await asyncio.sleep(0.02)
        assert await balance(consumer) == (100, 0)

        bad = await consumer.client.post(
            "/v1/calls", json={"api_id": api["api_id"], "cancel_after": "soon"}
        )
        assert bad.status_code == 422
        assert bad.json()["code"] == "invalid_cancel_after"

    finally:
        await upstream.stop()


async def test_retry_on_retries_and_records_attempts_and_5xx_is_never_charged(
    hookline: Running, make_party: MakeParty
) -> None:
    async def flaky(_got: Got, n: int) -> tuple[int, Any, dict[str, str]]:
        # Requests 0 and 1 fail; 2 succeeds. From 3 on, every request fails.
        return (200, {"ok": True}, {}) if n == 2 else (500, {"error": "busy"}, {})

    upstream = await Upstream(flaky).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=100)
        api = await list_api(
            owner,
            upstream.url,
            price=10,
            retry_on={"statuses": [500], "backoff": 0.05, "max_attempts": 3},
        )
        assert api["retry_on"] == {"statuses": [500], "backoff": 0.05, "max_attempts": 3}

        ok = await until_final(consumer, (await call(consumer, api["api_id"]))["request_id"])
        assert ok["status"] == "succeeded"
        assert [a["status_code"] for a in ok["attempts"]] == [500, 500, 200]
        assert all(a["duration_ms"] >= 0 and a["at"] for a in ok["attempts"])
        assert ok["cost"] == 10

        failed = await until_final(consumer, (await call(consumer, api["api_id"]))["request_id"])
        assert failed["status"] == "failed"
        assert failed["error"]["code"] == "upstream_unavailable"
        assert [a["status_code"] for a in failed["attempts"]] == [500, 500, 500]
        assert failed["cost"] == 0
        assert await balance(consumer) == (90, 0)  # charged once, for the success

        bad = await owner.client.patch(
            f"/v1/apis/{api['api_id']}", json={"retry_on": {"statuses": [200]}}
        )
        assert bad.status_code == 422
        assert bad.json()["code"] == "invalid_retry_on"
    finally:
        await upstream.stop()


async def test_results_are_expunged_after_retention_and_the_call_stays(
    make_hookline: Any, upstream: Upstream, make_party: MakeParty
) -> None:
    hookline: Running = await make_hookline(call_result_retention=0.5, call_lease_seconds=1)
    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer", credit=100)
    api = await list_api(owner, upstream.url, price=10)
    done = await until_final(consumer, (await call(consumer, api["api_id"]))["request_id"])
    assert done["result"]["body"] == {"answer": 42}
    async with asyncio.timeout(10):
        while True:
            now = (await consumer.client.get(done["status_url"])).json()
            if now["result_expunged_at"] is not None:
                break
            await asyncio.sleep(0.1)
    assert now["status"] == "succeeded"
    assert now["cost"] == 10
    assert now["result"] == {"status_code": 200, "body": None}
