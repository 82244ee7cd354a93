"""Operational events (hookline.*): raised by the worker's recording and by webhook
changes, delivered only to webhooks that name them, never about themselves."""

from __future__ import annotations

import orjson
import sqlalchemy as sa

from tests.support.receiver import Receiver, Reply
from tests.support.server import Running, settled


async def _hook(client, url: str, **extra):  # type: ignore[no-untyped-def]
    r = await client.post("/v1/webhooks", json={"callback_url": url, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _types(rx: Receiver) -> list[str]:
    return [orjson.loads(r.body)["type"] for r in rx.received]


async def _events_of(client, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return (await client.get("/v1/events", params={"type": kind})).json()["data"]


async def test_failing_then_exhausted_reach_only_explicit_subscribers(
    make_hookline, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(failing_after=2)
    ops, everything, exact = [await make_receiver() for _ in range(3)]
    broken = await make_receiver(lambda _r, _n: Reply(500, "down"))
    acme = await hookline.new_account()
    await _hook(acme, ops.url, events=["hookline.*"])
    await _hook(acme, everything.url, events=["*"])
    await _hook(acme, exact.url, events=["hookline.delivery.exhausted"])
    bad = await _hook(acme, broken.url, events=["order.*"], retry_policy={"schedule": [0.05, 0.05]})
    ev = (await acme.post("/v1/events", json={"type": "order.paid", "data": {"n": 1}})).json()
    await settled(acme, ev["event_id"])
    await ops.wait_for(2)
    await exact.wait_for(1)
    assert _types(ops) == ["hookline.delivery.failing", "hookline.delivery.exhausted"]
    assert _types(exact) == ["hookline.delivery.exhausted"]
    # "*" is not an explicit subscription: it got the order only.
    await everything.wait_for(1)
    assert await everything.quiet(0.3) == 0
    assert _types(everything) == ["order.paid"]

    failing, exhausted = (orjson.loads(r.body)["data"] for r in ops.received)
    detail = await settled(acme, ev["event_id"])
    delivery = next(d for d in detail["deliveries"] if d["webhook_id"] == bad["webhook_id"])
    assert failing["delivery_id"] == exhausted["delivery_id"] == delivery["delivery_id"]
    assert failing["attempts"] == 2
    assert failing["next_attempt_at"] is not None
    assert exhausted["attempts"] == 3
    assert exhausted["event_id"] == ev["event_id"]
    assert exhausted["event_type"] == "order.paid"
    last = delivery["attempts"][-1]
    assert exhausted["last_attempt"]["attempt_id"] == last["attempt_id"]
    assert exhausted["last_attempt"]["status_code"] == 500
    # Exactly one of each: published once, in the recording transaction.
    assert len(await _events_of(acme, "hookline.delivery.exhausted")) == 1
    assert len(await _events_of(acme, "hookline.delivery.failing")) == 1
    await acme.aclose()


async def test_recovered_after_failing(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(failing_after=2)
    ops = await make_receiver()
    flaky = await make_receiver(lambda _r, n: Reply(503) if n < 3 else Reply(200))
    acme = await hookline.new_account()
    await _hook(acme, ops.url, events=["hookline.delivery.*"])
    await _hook(acme, flaky.url, events=["a"], retry_policy={"schedule": [0.05, 0.05, 0.05]})
    ev = (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()
    await ops.wait_for(2)
    assert _types(ops) == ["hookline.delivery.failing", "hookline.delivery.recovered"]
    recovered = orjson.loads(ops.received[1].body)["data"]
    assert recovered["attempts"] == 4
    assert recovered["event_id"] == ev["event_id"]
    assert recovered["last_attempt"]["status_code"] == 200
    await acme.aclose()


async def test_disabled_and_enabled_events(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    ops = await make_receiver()
    gone = await make_receiver(lambda _r, _n: Reply(410))
    acme = await hookline.new_account()
    await _hook(acme, ops.url, events=["hookline.webhook.*"])
    hook = await _hook(acme, gone.url, events=["x"])
    hid = hook["webhook_id"]
    await acme.post("/v1/events", json={"type": "x", "data": {}})
    (first,) = await ops.wait_for(1)
    disabled = orjson.loads(first.body)
    assert disabled["type"] == "hookline.webhook.disabled"
    assert disabled["data"]["webhook_id"] == hid
    assert disabled["data"]["reason"] == "gone"
    assert (await acme.patch(f"/v1/webhooks/{hid}", json={"active": True})).status_code == 200
    assert (await acme.patch(f"/v1/webhooks/{hid}", json={"active": False})).status_code == 200
    await ops.wait_for(3)
    second, third = (orjson.loads(r.body) for r in ops.received[1:])
    assert second["type"] == "hookline.webhook.enabled"
    assert second["data"]["webhook_id"] == hid
    assert third["type"] == "hookline.webhook.disabled"
    assert third["data"]["reason"] == "manual"
    # Patching a disabled webhook without re-enabling it raises nothing more.
    await acme.patch(f"/v1/webhooks/{hid}", json={"description": "still off"})
    assert await ops.quiet(0.3) == 0
    await acme.aclose()


async def test_operational_deliveries_raise_nothing_about_themselves(
    make_hookline, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(failing_after=1)
    down = await make_receiver(lambda _r, _n: Reply(500))
    acme = await hookline.new_account()
    # One broken receiver both for orders and for the operational events about them.
    await _hook(
        acme,
        down.url,
        events=["order.*", "hookline.*"],
        retry_policy={"schedule": [0.05, 0.05]},
    )
    ev = (await acme.post("/v1/events", json={"type": "order.paid", "data": {}})).json()
    await settled(acme, ev["event_id"])
    # The order's 3 attempts, then 3 each for its failing and exhausted events; those
    # fail too, but raise no events of their own.
    await down.wait_for(9)
    assert await down.quiet(0.5) == 0
    assert len(await _events_of(acme, "hookline.delivery.failing")) == 1
    assert len(await _events_of(acme, "hookline.delivery.exhausted")) == 1
    await acme.aclose()


async def test_accounts_cannot_publish_hookline_types(hookline: Running) -> None:
    acme = await hookline.new_account()
    r = await acme.post("/v1/events", json={"type": "hookline.webhook.disabled", "data": {}})
    assert r.status_code == 422
    assert r.json()["code"] == "reserved_event_type"
    await acme.aclose()


async def test_ordinary_outcomes_cost_no_extra_statements(hookline: Running, receiver) -> None:  # type: ignore[no-untyped-def]
    """Only an outcome that raises an event is moved on by a statement of its own; the
    rest share one executemany, and nothing reads endpoints for operational events."""

    statements: list[str] = []

    def seen(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    engine = hookline.system.db.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        acme = await hookline.new_account()
        await _hook(acme, receiver.url)
        ids = [
            (await acme.post("/v1/events", json={"type": "t", "data": {"n": n}})).json()["event_id"]
            for n in range(20)
        ]
        await receiver.wait_for(20)
        for event_id in ids:
            await settled(acme, event_id)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    moves = [
        s for s in statements if s.startswith("UPDATE deliveries SET status") and "attempts" in s
    ]
    assert moves
    assert not [s for s in moves if "RETURNING" in s]
    fanout_read = "SELECT endpoints.id, endpoints.account_id, endpoints.app_id, endpoints.status"
    assert not [s for s in statements if s.startswith(fanout_read)]
    await acme.aclose()
