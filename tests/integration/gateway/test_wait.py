"""Waiting for a call instead of (or as well as) a webhook: ``Prefer: wait=N`` on the
call, ``?wait=N`` long polls, and queue positions. Real Hookline, a real upstream."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.integration.gateway.conftest import MakeParty
from tests.support.gateway import call, list_api, until_status
from tests.support.server import Running
from tests.support.upstream import Got, Upstream, stuck


def gated(gate: asyncio.Event) -> Any:
    async def handler(_got: Got, _n: int) -> tuple[int, Any, dict[str, str]]:
        await gate.wait()
        return 200, {"answer": 42}, {}

    return handler


async def test_prefer_wait_answers_with_the_finished_call(
    hookline: Running, upstream: Upstream, make_party: MakeParty
) -> None:
    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer", credit=100)
    api = await list_api(owner, upstream.url, price=10)

    r = await consumer.client.post(
        "/v1/calls",
        json={"api_id": api["api_id"], "params": {"q": 1}},
        headers={"Prefer": "wait=10"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["preference-applied"] == "wait=10"
    done = r.json()
    assert done["status"] == "succeeded"
    assert done["result"] == {"status_code": 200, "body": {"answer": 42}}
    assert done["cost"] == 10
    assert r.headers["location"] == done["status_url"]


async def test_prefer_wait_that_runs_out_answers_202_then_long_poll(
    hookline: Running, make_party: MakeParty
) -> None:
    gate = asyncio.Event()
    upstream = await Upstream(gated(gate)).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer")
        api = await list_api(owner, upstream.url)

        r = await consumer.client.post(
            "/v1/calls", json={"api_id": api["api_id"]}, headers={"Prefer": "wait=0.3"}
        )
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "running"
        assert r.headers["retry-after"] == "1"
        status_url = r.headers["location"]

        # A long poll that runs out answers with the call as it is.
        early = await consumer.client.get(status_url, params={"wait": 0.2})
        assert early.status_code == 200
        assert early.json()["status"] == "running"

        poll = asyncio.create_task(consumer.client.get(status_url, params={"wait": 10}))
        await asyncio.sleep(0.2)
        assert not poll.done()
        gate.set()
        done = (await poll).json()
        assert done["status"] == "succeeded"
        assert done["result"]["body"] == {"answer": 42}

        bad = await consumer.client.get(status_url, params={"wait": 61})
        assert bad.status_code == 422
        assert bad.json()["code"] == "validation_error"
    finally:
        gate.set()
        await upstream.stop()


async def test_200_waiting_requests_hold_no_database_connection(
    make_hookline: Any, make_party: MakeParty
) -> None:
    """With a pool of two connections (on PostgreSQL), 200 requests waiting on their
    calls leave the pool free: another request still answers while they wait."""
    hookline: Running = await make_hookline(
        db_pool_size=2, db_max_overflow=0, db_connect_timeout=30.0
    )
    gate = asyncio.Event()
    upstream = await Upstream(gated(gate)).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer")
        api = await list_api(owner, upstream.url)
        async with httpx.AsyncClient(
            base_url=hookline.url,
            headers={"Authorization": consumer.client.headers["authorization"]},
            limits=httpx.Limits(max_connections=250, max_keepalive_connections=250),
            timeout=90,
        ) as many:
            waiting = [
                asyncio.create_task(
                    many.post(
                        "/v1/calls",
                        json={"api_id": api["api_id"], "params": {"n": i}},
                        headers={"Prefer": "wait=60"},
                    )
                )
                for i in range(200)
            ]
            await upstream.wait_for(200, timeout=60)
            watch = hookline.system.call_watch
            assert watch is not None
            async with asyncio.timeout(30):
                while watch.waiting < 200:
                    await asyncio.sleep(0.05)
            # Each waiter reads its call when woken (briefly); between those reads the
            # pool is entirely free although all 200 are still waiting.
            pool = hookline.system.db.engine.sync_engine.pool
            async with asyncio.timeout(20):
                while pool.checkedout() != 0:  # type: ignore[attr-defined]
                    await asyncio.sleep(0.01)
            assert watch.waiting == 200
            # A normal request needs a connection, and gets one.
            r = await consumer.client.get("/v1/balance")
            assert r.status_code == 200, r.text
            assert not any(t.done() for t in waiting)
            gate.set()
            answers = await asyncio.gather(*waiting)
        assert {a.status_code for a in answers} == {200}
        assert {a.json()["status"] for a in answers} == {"succeeded"}
        assert watch.waiting == 0
    finally:
        gate.set()
        await upstream.stop()


async def test_queue_position_counts_calls_ahead_under_max_concurrency(
    hookline: Running, make_party: MakeParty
) -> None:
    upstream = await Upstream(stuck).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer")
        api = await list_api(owner, upstream.url, max_concurrency=1)
        first = await call(consumer, api["api_id"])
        await until_status(consumer, first["request_id"], "running")
        second = await call(consumer, api["api_id"])
        third = await call(consumer, api["api_id"])

        async def position(c: dict[str, Any]) -> Any:
            return (await consumer.client.get(f"/v1/calls/{c['request_id']}")).json()[
                "queue_position"
            ]

        assert await position(first) is None
        assert await position(second) == 0
        assert await position(third) == 1
        await consumer.client.post(f"/v1/calls/{second['request_id']}/cancel")
        assert await position(third) == 0
    finally:
        await upstream.stop()
