"""``callback`` mode, progress updates, cancellation and late callbacks."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from tests.integration.gateway.conftest import MakeParty
from tests.support.gateway import balance, call, list_api, until_final, until_status
from tests.support.receiver import Receiver
from tests.support.server import Running
from tests.support.upstream import Got, Upstream, stuck


async def accepted(_got: Got, _n: int) -> tuple[int, Any, dict[str, str]]:
    return 202, {"queued": True}, {}


async def test_callback_mode_with_progress(
    hookline: Running, receiver: Receiver, make_party: MakeParty
) -> None:
    upstream = await Upstream(accepted).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=50)
        api = await list_api(owner, upstream.url, completion="callback", price=20)
        c = await call(consumer, api["api_id"], webhook_url=receiver.url, progress=True)
        (got,) = await upstream.wait_for(1)
        assert got.headers["hookline-request-id"] == c["request_id"]
        callback_url = got.headers["hookline-callback-url"]
        assert callback_url.startswith(f"{hookline.url}/v1/callbacks/{c['request_id']}/")
        await until_status(consumer, c["request_id"], "running")
        assert await balance(consumer) == (30, 20)  # reserved while it runs

        async with httpx.AsyncClient(timeout=10) as up:
            r = await up.post(callback_url, json={"progress": {"percent": 50}})
            assert r.status_code == 202, r.text
            (progress_hook,) = await receiver.wait_for(1)
            event = orjson.loads(progress_hook.body)
            assert event["type"] == "call.progress"
            assert event["data"]["progress"] == {"percent": 50}
            assert (await consumer.client.get(f"/v1/calls/{c['request_id']}")).json()[
                "progress"
            ] == {"percent": 50}

            r = await up.post(callback_url, json={"status_code": 200, "body": {"text": "done"}})
            assert r.status_code == 202, r.text
            hooks = await receiver.wait_for(2)
            data = orjson.loads(hooks[1].body)["data"]
            assert data["status"] == "succeeded"
            assert data["result"] == {"status_code": 200, "body": {"text": "done"}}

            # Only once: a repeated result is refused.
            again = await up.post(callback_url, json={"status_code": 200, "body": {}})
            assert again.status_code == 409
            assert again.json()["code"] == "call_finished"
            # The token is the credential: a wrong one finds nothing.
            forged = await up.post(callback_url[:-4] + "AAAA", json={"body": 1})
            assert forged.status_code == 404
        assert await balance(consumer) == (30, 0)
        assert await balance(owner) == (20, 0)
    finally:
        await upstream.stop()


async def test_callback_failure_and_bad_bodies(hookline: Running, make_party: MakeParty) -> None:
    upstream = await Upstream(accepted).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=5)
        api = await list_api(owner, upstream.url, completion="callback", price=5)
        c = await call(consumer, api["api_id"])
        (got,) = await upstream.wait_for(1)
        url = got.headers["hookline-callback-url"]
        async with httpx.AsyncClient(timeout=10) as up:
            for body, code in (
                (b"not json", "invalid_json"),
                (b"[1]", "invalid_callback"),
                (b'{"status_code": "200"}', "invalid_callback"),
                (b'{"colour": 1}', "invalid_callback"),
            ):
                r = await up.post(url, content=body)
                assert r.status_code in (400, 422), r.text
                assert r.json()["code"] == code
            r = await up.post(url, json={"error": "model crashed", "status_code": 500})
            assert r.status_code == 202
        done = await until_final(consumer, c["request_id"])
        assert done["status"] == "failed"
        assert done["error"] == {"code": "upstream_error", "message": "model crashed"}
        assert await balance(consumer) == (5, 0)
    finally:
        await upstream.stop()


async def test_callback_never_comes_times_out(
    hookline: Running, receiver: Receiver, make_party: MakeParty
) -> None:
    upstream = await Upstream(accepted).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer")
        # Long enough for the call to reach the upstream on a busy machine first.
        api = await list_api(owner, upstream.url, completion="callback", timeout=1.5)
        c = await call(consumer, api["api_id"], webhook_url=receiver.url)
        await upstream.wait_for(1)
        (hook,) = await receiver.wait_for(1)
        assert orjson.loads(hook.body)["data"]["status"] == "timed_out"
        url = upstream.received[0].headers["hookline-callback-url"]
        async with httpx.AsyncClient(timeout=10) as up:
            late = await up.post(url, json={"body": "too late"})
        assert late.status_code == 409
        assert (await until_final(consumer, c["request_id"]))["status"] == "timed_out"
    finally:
        await upstream.stop()


async def test_cancel_running_hold_call_aborts_the_upstream_request(
    hookline: Running, receiver: Receiver, make_party: MakeParty
) -> None:
    upstream = await Upstream(stuck).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=7)
        api = await list_api(owner, upstream.url, price=7)
        c = await call(consumer, api["api_id"], webhook_url=receiver.url)
        await upstream.wait_for(1)
        r = await consumer.client.post(f"/v1/calls/{c['request_id']}/cancel")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "cancelled"
        (hook,) = await receiver.wait_for(1)
        data = orjson.loads(hook.body)["data"]
        assert (data["status"], data["error"]["code"], data["cost"]) == (
            "cancelled",
            "cancelled",
            0,
        )
        async with asyncio.timeout(5):
            while upstream.aborted < 1:  # the held request was closed by Hookline
                await asyncio.sleep(0.01)
        assert await balance(consumer) == (7, 0)
        again = await consumer.client.post(f"/v1/calls/{c['request_id']}/cancel")
        assert again.status_code == 409
        assert again.json()["code"] == "call_finished"
    finally:
        await upstream.stop()


async def test_cancel_queued_call_and_late_callback(
    hookline: Running, receiver: Receiver, make_party: MakeParty
) -> None:
    upstream = await Upstream(accepted).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=10)
        api = await list_api(owner, upstream.url, completion="callback", max_concurrency=1, price=5)
        first = await call(consumer, api["api_id"], webhook_url=receiver.url)
        second = await call(consumer, api["api_id"], webhook_url=receiver.url)
        (got,) = await upstream.wait_for(1)
        await until_status(consumer, first["request_id"], "running")
        # The API's one slot is taken, so the second call waits in the queue.
        assert (await consumer.client.get(f"/v1/calls/{second['request_id']}")).json()[
            "status"
        ] == "queued"
        r = await consumer.client.post(f"/v1/calls/{second['request_id']}/cancel")
        assert r.json()["status"] == "cancelled"
        # Cancel the running callback call too; its upstream's late answer gets 409.
        r = await consumer.client.post(f"/v1/calls/{first['request_id']}/cancel")
        assert r.json()["status"] == "cancelled"
        async with httpx.AsyncClient(timeout=10) as up:
            late = await up.post(got.headers["hookline-callback-url"], json={"body": "x"})
        assert late.status_code == 409
        assert late.json()["code"] == "call_cancelled"
        hooks = await receiver.wait_for(2)
        assert {orjson.loads(h.body)["data"]["status"] for h in hooks} == {"cancelled"}
        assert len(upstream.received) == 1  # the queued call was never forwarded
        assert await balance(consumer) == (10, 0)
    finally:
        await upstream.stop()


async def test_max_concurrency_queues_calls_beyond_it(
    hookline: Running, make_party: MakeParty
) -> None:
    gate = asyncio.Event()

    async def gated(_got: Got, n: int) -> tuple[int, Any, dict[str, str]]:
        await gate.wait()
        return 200, {"n": n}, {}

    upstream = await Upstream(gated).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer")
        api = await list_api(owner, upstream.url, max_concurrency=2)
        calls = [await call(consumer, api["api_id"]) for _ in range(5)]
        await upstream.wait_for(2)
        listed = (await consumer.client.get("/v1/calls", params={"status": "queued"})).json()
        assert len(listed["data"]) == 3
        gate.set()
        for c in calls:
            assert (await until_final(consumer, c["request_id"]))["status"] == "succeeded"
        assert len(upstream.received) == 5
        assert upstream.max_in_flight == 2
    finally:
        gate.set()
        await upstream.stop()
