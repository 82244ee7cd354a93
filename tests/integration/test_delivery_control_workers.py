"""Delivery control across `hookline worker` processes sharing one database: the rate
limit holds for all of them together, and FIFO order survives a worker killed mid-line."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.integration.test_delivery_control import assert_rate
from tests.support.processes import Cluster, kill_hard, new_account
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.slow


async def _hook(client: httpx.AsyncClient, url: str, **extra: object) -> None:
    r = await client.post("/v1/webhooks", json={"callback_url": url, **extra})
    assert r.status_code == 201, r.text


def _n(body: bytes) -> int:
    return int(orjson.loads(body)["data"]["n"])


async def test_two_workers_keep_the_rate_and_the_order_when_one_is_killed(
    make_receiver, database_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    limited: Receiver = await make_receiver()
    # Slow answers, so that the killed worker dies with the head of the line in flight.
    fifo: Receiver = await make_receiver(
        lambda _r, n: Reply(500, "no") if n == 4 else Reply(delay=0.2)
    )
    cluster = Cluster(
        database_url,
        tmp_path,
        poll_interval=0.1,
        delivery_timeout=1.0,
        lease_seconds=6.0,
        retry_schedule="0.1,0.1",
    )
    try:
        api = await cluster.api()
        doomed, _survivor = await asyncio.gather(cluster.worker(), cluster.worker())
        client = await new_account(api)
        rate = 5.0
        await _hook(client, limited.url, rate_limit=rate, events=["slow.*"])
        await _hook(client, fifo.url, ordering="fifo", events=["line.*"])
        started = time.monotonic()
        events = [{"type": "slow.x", "data": {"n": i}} for i in range(20)]
        r = await client.post("/v1/events/batch", json={"events": events})
        assert r.status_code == 202, r.text
        for i in range(10):
            r = await client.post("/v1/events", json={"type": "line.x", "data": {"n": i}})
            assert r.status_code == 202, r.text
        await fifo.wait_for(3, timeout=20)
        kill_hard(doomed)
        assert await doomed.wait() == -signal.SIGKILL

        got = await limited.wait_for(20, timeout=40)
        assert_rate([x.at for x in got], started, rate)
        assert sorted(_n(x.body) for x in got) == list(range(20))

        loop = asyncio.get_running_loop()
        end = loop.time() + 40
        while len({_n(x.body) for x in fifo.received}) < 10:
            assert loop.time() < end, [_n(x.body) for x in fifo.received]
            await asyncio.sleep(0.1)
        order = [_n(x.body) for x in fifo.received]
        # In publish order; an attempt repeats only when it failed or its worker died.
        assert order == sorted(order), order
        assert sorted(set(order)) == list(range(10))
        await client.aclose()
    finally:
        await cluster.stop()
