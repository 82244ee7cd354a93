"""Delivery control through the real API and worker, against real receivers: rate
limits, a receiver's 429, FIFO ordering and cancel, the circuit breaker, timeouts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import event as sa_event

from hookline.domain.control import burst
from tests.support.receiver import Received, Reply

pytestmark = pytest.mark.slow

# A clock step between the server's wall clock and the receiver's monotonic one.
EPSILON = 0.01


async def _hook(client: httpx.AsyncClient, url: str, **extra: Any) -> dict[str, Any]:
    r = await client.post("/v1/webhooks", json={"callback_url": url, **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _publish(client: httpx.AsyncClient, n: int, kind: str = "order.paid") -> list[str]:
    """Publish ``n`` events one after the other (publish order = list order)."""
    ids = []
    for i in range(n):
        r = await client.post("/v1/events", json={"type": kind, "data": {"n": i}})
        assert r.status_code == 202, r.text
        ids.append(r.json()["event_id"])
    return ids


async def _batch(client: httpx.AsyncClient, n: int, kind: str) -> None:
    events = [{"type": kind, "data": {"n": i}} for i in range(n)]
    r = await client.post("/v1/events/batch", json={"events": events})
    assert r.status_code == 202, r.text


def _n(r: Received) -> int:
    return int(orjson.loads(r.body)["data"]["n"])


async def _until(check: Any, timeout: float = 20.0) -> Any:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > end:
            raise AssertionError("the condition was not met in time")
        await asyncio.sleep(0.05)


def assert_rate(arrivals: list[float], started: float, rate: float) -> None:
    """Not before the limit allows: the k-th arrival (0-based) came after k+1 claims,
    and the limit lets the (k+1)-th start no sooner than (k+1-burst)/rate after publish."""
    for k, at in enumerate(sorted(arrivals)):
        assert at - started >= (k + 1 - burst(rate)) / rate - EPSILON, (k, at - started)


async def test_options_are_shown_validated_and_changed(make_hookline, receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(delivery_timeout=2.0)
    acme = await hookline.new_account()
    plain = await _hook(acme, receiver.url)
    assert (plain["rate_limit"], plain["ordering"], plain["timeout"], plain["circuit"]) == (
        None,
        "unordered",
        None,
        "closed",
    )
    hook = await _hook(acme, receiver.url, rate_limit=5, ordering="fifo", timeout=1.5)
    got = (await acme.get(f"/v1/webhooks/{hook['webhook_id']}")).json()
    assert (got["rate_limit"], got["ordering"], got["timeout"]) == (5, "fifo", 1.5)

    r = await acme.post("/v1/webhooks", json={"callback_url": receiver.url, "timeout": 3})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "timeout_too_long"
    r = await acme.post("/v1/webhooks", json={"callback_url": receiver.url, "rate_limit": 0})
    assert r.status_code == 422, r.text
    r = await acme.post("/v1/webhooks", json={"callback_url": receiver.url, "ordering": "lifo"})
    assert r.status_code == 422, r.text

    path = f"/v1/webhooks/{hook['webhook_id']}"
    r = await acme.patch(path, json={"rate_limit": None, "ordering": "unordered", "timeout": 2})
    assert r.status_code == 200, r.text
    assert (r.json()["rate_limit"], r.json()["ordering"], r.json()["timeout"]) == (
        None,
        "unordered",
        2,
    )
    r = await acme.patch(path, json={"timeout": 2.5})
    assert r.status_code == 422
    assert r.json()["code"] == "timeout_too_long"


async def test_rate_limit_spaces_deliveries_and_spares_other_webhooks(
    make_hookline, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline()
    limited, free = await make_receiver(), await make_receiver()
    acme = await hookline.new_account()
    rate = 10.0
    await _hook(acme, limited.url, rate_limit=rate, events=["slow.*"])
    await _hook(acme, free.url, events=["fast.*"])
    started = time.monotonic()
    await _batch(acme, 30, "slow.x")
    await _batch(acme, 30, "fast.x")
    got = await limited.wait_for(30, timeout=30)
    assert_rate([r.at for r in got], started, rate)
    assert sorted(_n(r) for r in got) == list(range(30))
    # The unlimited webhook was not held back behind the limited one.
    fast = await free.wait_for(30)
    assert max(r.at for r in fast) < max(r.at for r in got)


async def test_a_429_slows_that_webhook_only_and_counts_once(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(retry_schedule="0.05,0.05,0.05")
    pause = 4  # the Retry-After: the margin of the ordering asserted below
    shedding = await make_receiver(
        lambda _r, n: (
            Reply(429, "slow down", headers={"Retry-After": str(pause)}) if n == 0 else Reply()
        )
    )
    other = await make_receiver()
    acme = await hookline.new_account()
    hook = await _hook(acme, shedding.url, events=["a.*"])
    await _hook(acme, other.url, events=["b.*"])
    await _publish(acme, 1, "a.x")
    first = (await shedding.wait_for(1))[0]
    path = f"/v1/webhooks/{hook['webhook_id']}"

    async def answered() -> bool:
        # The 429 is recorded (with the pause it asks for) a moment after it was sent;
        # what is published before that was already on its way, by design.
        found = (await acme.get(f"{path}/deliveries")).json()["data"]
        return bool(found) and found[0]["attempt_count"] == 1

    await _until(answered)
    # The other webhook's events first: its deliveries start while the rest are published.
    await _publish(acme, 4, "b.x")
    await _publish(acme, 4, "a.x")
    got = await shedding.wait_for(6, timeout=pause + 20)
    # Nothing went to that receiver until its Retry-After had passed...
    assert all(r.at - first.at >= pause - EPSILON for r in got[1:])
    # ...while the other webhook carried on (an ordering, with the pause as its margin).
    assert len(await other.wait_for(4)) == 4
    assert max(r.at for r in other.received) < got[1].at

    async def recorded() -> list[dict[str, Any]] | None:
        found = (await acme.get(f"{path}/deliveries")).json()["data"]
        return found if all(d["status"] == "succeeded" for d in found) else None

    deliveries = await _until(recorded)
    attempts = sorted(d["attempt_count"] for d in deliveries)
    # The 429 cost its delivery one attempt; the ones that waited behind it none.
    assert attempts == [1, 1, 1, 1, 2]


async def test_fifo_keeps_publish_order_through_failures(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    # A long poll: the next delivery in line goes as soon as the one before is recorded.
    hookline = await make_hookline(retry_schedule="0.1,0.1,0.1", poll_interval=5)
    failed_once: set[int] = set()

    def script(r: Received, _count: int) -> Reply:
        k = _n(r)
        if k in (2, 5) and k not in failed_once:
            failed_once.add(k)
            return Reply(500, "not yet")
        return Reply()

    rx = await make_receiver(script)
    acme = await hookline.new_account()
    await _hook(acme, rx.url, ordering="fifo")
    await _publish(acme, 8)
    got = await rx.wait_for(10)
    order = [_n(r) for r in got]
    assert order == [0, 1, 2, 2, 3, 4, 5, 5, 6, 7]
    assert await rx.quiet(0.3) == 0


async def test_cancel_skips_the_head_of_a_fifo_line(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(retry_schedule="60")
    rx = await make_receiver(lambda r, _count: Reply(500, "no") if _n(r) == 0 else Reply())
    acme = await hookline.new_account()
    hook = await _hook(acme, rx.url, ordering="fifo")
    await _publish(acme, 3)
    await rx.wait_for(1)
    assert await rx.quiet(0.3) == 0  # the others wait behind the failing head

    async def head() -> Any:
        stats = (await acme.get(f"/v1/webhooks/{hook['webhook_id']}/stats")).json()
        h = stats["head_of_line"]
        return h if h and h["status"] == "pending" and h["attempt_count"] == 1 else None

    stuck = await _until(head)
    r = await acme.post(f"/v1/deliveries/{stuck['delivery_id']}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    got = await rx.wait_for(3)
    assert [_n(x) for x in got] == [0, 1, 2]
    r = await acme.post(f"/v1/deliveries/{stuck['delivery_id']}/cancel")
    assert r.status_code == 409
    assert r.json()["code"] == "delivery_finished"
    r = await acme.post("/v1/deliveries/dlv_nope/cancel")
    assert r.status_code == 404


async def test_an_open_circuit_probes_a_dead_receiver_and_loses_nothing(
    make_hookline, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    cooldown = 1.0
    hookline = await make_hookline(
        retry_schedule=",".join(["0.05"] * 20),
        circuit_min_attempts=5,
        circuit_failure_ratio=0.8,
        circuit_cooldown=cooldown,
        endpoint_concurrency=2,
    )
    up = False
    dead = await make_receiver(lambda _r, _n: Reply() if up else Reply(500, "down"))
    ops = await make_receiver()
    acme = await hookline.new_account()
    hook = await _hook(acme, dead.url, events=["order.*"])
    await _hook(acme, ops.url, events=["hookline.webhook.*"])
    await _publish(acme, 50)
    path = f"/v1/webhooks/{hook['webhook_id']}"

    async def circuit(state: str) -> bool:
        return bool((await acme.get(path)).json()["circuit"] == state)

    await _until(lambda: circuit("open"))
    tripped, since = len(dead.received), time.monotonic()
    await asyncio.sleep(2.5 * cooldown)
    probes = len(dead.received) - tripped
    elapsed = time.monotonic() - since
    # One request per cool-down (a few in flight when it opened may land meanwhile).
    assert probes <= elapsed / cooldown + 2, (probes, elapsed)
    assert tripped < 25, tripped
    metrics = (await hookline.admin.get("/metrics")).text
    assert "hookline_webhook_circuits" in metrics

    up = True
    await _until(lambda: circuit("closed"))

    async def all_succeeded() -> bool:
        r = await acme.get(f"{path}/stats")
        return bool(r.json()["counts"]["succeeded"] == 50)

    await _until(all_succeeded)
    kinds = [orjson.loads(r.body)["type"] for r in (await ops.wait_for(2))]
    assert kinds[:2] == ["hookline.webhook.circuit_opened", "hookline.webhook.circuit_closed"]


async def test_a_webhook_timeout_cuts_its_attempts_short(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(retry_schedule="0.05")
    rx = await make_receiver(lambda _r, n: Reply(delay=1.5) if n == 0 else Reply())
    acme = await hookline.new_account()
    await _hook(acme, rx.url, timeout=0.5)
    (event_id,) = await _publish(acme, 1)
    await rx.wait_for(2)

    async def done() -> Any:
        d = (await acme.get(f"/v1/events/{event_id}")).json()["deliveries"][0]
        return d if d["status"] == "succeeded" else None

    delivery = await _until(done)
    first = delivery["attempts"][0]
    assert first["error"] == "timeout"
    assert first["error_detail"] == "no response within 0.5 s"


async def test_webhooks_without_options_cost_no_controlled_claim(
    make_hookline, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    """With no controlled webhook, the claim looks at the controlled path once a poll
    interval, not once a round; a webhook given a rate limit later is still served."""
    poll = 0.5
    hookline = await make_hookline(poll_interval=poll)
    plain, limited = await make_receiver(), await make_receiver()
    acme = await hookline.new_account()
    await _hook(acme, plain.url, events=["plain.*"])
    looked: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The controlled half of the claim selects the controlled webhooks' rate limits.
        if statement.lstrip().startswith("SELECT endpoints.id, endpoints.rate_limit"):
            looked.append(statement)

    engine = hookline.system.db.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.monotonic()
        for i in range(40):
            r = await acme.post("/v1/events", json={"type": "plain.x", "data": {"n": i}})
            assert r.status_code == 202, r.text
            await plain.wait_for(i + 1)  # one claim round at least for each event
        elapsed = time.monotonic() - started
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert len(looked) <= elapsed / poll + 2, (len(looked), elapsed)

    await _hook(acme, limited.url, events=["limited.*"], rate_limit=20)
    await _batch(acme, 5, "limited.x")
    assert sorted(_n(r) for r in await limited.wait_for(5, timeout=30)) == list(range(5))
