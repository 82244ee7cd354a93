"""Reservation, capture and release; balances under concurrent calls; test-mode calls;
credits, ledger and usage."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.gateway.conftest import MakeParty
from tests.support.gateway import balance, call, list_api, until_final
from tests.support.server import Running
from tests.support.upstream import Got, Upstream


async def test_insufficient_balance_is_refused_before_forwarding(
    hookline: Running, upstream: Upstream, make_party: MakeParty
) -> None:
    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer", credit=9)
    api = await list_api(owner, upstream.url, price=10)
    r = await consumer.client.post("/v1/calls", json={"api_id": api["api_id"]})
    assert r.status_code == 402
    assert r.json()["code"] == "insufficient_balance"
    assert (await consumer.client.get("/v1/calls")).json()["data"] == []
    assert await balance(consumer) == (9, 0)
    # Nothing reached the upstream: a free call made afterwards is its first request.
    free = await list_api(owner, upstream.url)
    c = await call(consumer, free["api_id"])
    await until_final(consumer, c["request_id"])
    assert len(upstream.received) == 1
    assert upstream.received[0].headers["hookline-api-id"] == free["api_id"]


async def test_concurrent_calls_never_overdraw(hookline: Running, make_party: MakeParty) -> None:
    gate = asyncio.Event()

    async def gated(_got: Got, _n: int) -> tuple[int, Any, dict[str, str]]:
        await gate.wait()
        return 200, {}, {}

    upstream = await Upstream(gated).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=100)
        api = await list_api(owner, upstream.url, price=30)
        answers = await asyncio.gather(
            *(consumer.client.post("/v1/calls", json={"api_id": api["api_id"]}) for _ in range(12))
        )
        codes = sorted(r.status_code for r in answers)
        assert codes == [202] * 3 + [402] * 9
        assert await balance(consumer) == (10, 90)
        gate.set()
        for r in answers:
            if r.status_code == 202:
                await until_final(consumer, r.json()["request_id"])
        assert await balance(consumer) == (10, 0)
        assert await balance(owner) == (90, 0)
        entries = (await consumer.client.get("/v1/ledger")).json()["data"]
        earned = (await owner.client.get("/v1/ledger")).json()["data"]
        assert sum(e["amount"] for e in entries) == 100 - 90  # credit minus 3 charges
        # Every settlement sums to zero across the two accounts.
        by_settlement: dict[str, int] = {}
        for e in entries + earned:
            if e["kind"] != "credit":
                by_settlement[e["settlement_id"]] = (
                    by_settlement.get(e["settlement_id"], 0) + e["amount"]
                )
        assert len(by_settlement) == 3
        assert set(by_settlement.values()) == {0}
    finally:
        gate.set()
        await upstream.stop()


async def test_test_mode_calls_are_free_marked_and_limited(
    hookline: Running, upstream: Upstream, make_party: MakeParty
) -> None:
    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer")  # no money at all
    api = await list_api(owner, upstream.url, price=1000, test_calls=2)
    for _ in range(2):
        c = await call(consumer, api["api_id"], test=True)
        assert (c["test"], c["price"]) == (True, 0)
        done = await until_final(consumer, c["request_id"])
        assert (done["status"], done["cost"], done["test"]) == ("succeeded", 0, True)
    r = await consumer.client.post("/v1/calls", json={"api_id": api["api_id"], "test": True})
    assert r.status_code == 429
    assert r.json()["code"] == "test_calls_exhausted"
    assert (
        await consumer.client.post("/v1/calls", json={"api_id": api["api_id"]})
    ).status_code == 402
    assert await balance(owner) == (0, 0)
    assert (await owner.client.get("/v1/ledger")).json()["data"] == []
    usage = (await owner.client.get("/v1/usage", params={"role": "owner"})).json()["data"]
    assert [(u["calls"], u["test_calls"], u["amount"]) for u in usage] == [(2, 2, 0)]


async def test_credits_ledger_and_usage(
    hookline: Running, upstream: Upstream, make_party: MakeParty
) -> None:
    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer", credit=50)
    a = await list_api(owner, upstream.url, price=10, name="A")
    b = await list_api(owner, upstream.url, price=4, name="B")
    for api_id in (a["api_id"], a["api_id"], b["api_id"]):
        await until_final(consumer, (await call(consumer, api_id))["request_id"])

    credit = (await consumer.client.get("/v1/ledger")).json()["data"][-1]
    assert (credit["kind"], credit["amount"], credit["note"]) == ("credit", 50, "test funds")
    assert await balance(consumer) == (26, 0)

    spent = (await consumer.client.get("/v1/usage")).json()
    assert spent["role"] == "consumer"
    rows = {u["api_id"]: u for u in spent["data"]}
    assert (rows[a["api_id"]]["calls"], rows[a["api_id"]]["amount"]) == (2, 20)
    assert (rows[b["api_id"]]["calls"], rows[b["api_id"]]["amount"]) == (1, 4)
    month = (await owner.client.get("/v1/usage?role=owner&period=month")).json()["data"]
    assert sum(u["amount"] for u in month) == 24
    assert all(len(u["period"]) == 7 for u in month)  # YYYY-MM
    later = await owner.client.get("/v1/usage?role=owner&since=2999-01-01T00:00:00Z")
    assert later.json()["data"] == []

    # Only the admin credits, and only positive amounts to existing accounts.
    r = await consumer.client.post(
        f"/v1/accounts/{consumer.account_id}/credits", json={"amount": 5}
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = await hookline.admin.post(f"/v1/accounts/{consumer.account_id}/credits", json={"amount": 0})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_amount")
    r = await hookline.admin.post("/v1/accounts/acct_nope/credits", json={"amount": 1})
    assert (r.status_code, r.json()["code"]) == (404, "account_not_found")
    r = await owner.client.get("/v1/usage?period=week")
    assert r.status_code == 422
