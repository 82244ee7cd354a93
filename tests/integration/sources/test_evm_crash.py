"""A worker killed (SIGKILL) in the middle of a catch-up: the workers after it carry on
from the committed cursor, and the receiver gets every notification, none published
twice."""

from __future__ import annotations

import asyncio
import signal
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from tests.support.evm import Ganache, RpcProxy
from tests.support.processes import Cluster, kill_hard, new_account
from tests.support.receiver import Receiver
from tests.support.sources import watch

pytestmark = pytest.mark.slow

TRANSFERS = 40
CONFIRMATIONS = [1, 2]


async def test_a_killed_worker_misses_and_doubles_nothing(
    ganache: Ganache, receiver: Receiver, database_url: str, tmp_path: Path
) -> None:
    sender, watched = ganache.accounts[0], ganache.accounts[1]
    start = await ganache.head() + 1
    # The backlog: one block per transfer, with empty blocks between some of them.
    sent = []
    for i in range(TRANSFERS):
        sent.append(await ganache.send(sender, watched, 10_000 + i))
        if i % 10 == 0:
            await ganache.mine(3)
    await ganache.mine(2)  # every transfer reaches both confirmation counts
    head = await ganache.head()
    # A slow link to the node makes the catch-up last long enough to be interrupted.
    proxy = await RpcProxy(ganache.url, delay=0.02).start()
    cluster = Cluster(
        database_url,
        tmp_path,
        source_block_range=2,
        source_lease_seconds=3,
        source_retry_max=0.5,
        poll_interval=0.1,
    )
    try:
        api = await cluster.api()
        client = await new_account(api)
        w = await watch(
            client, receiver, proxy.url, [watched], confirmations=CONFIRMATIONS, start_block=start
        )
        doomed = await cluster.worker()
        loop = asyncio.get_running_loop()
        end = loop.time() + 60
        while True:
            health = (await client.get(f"/v1/sources/{w.source_id}")).json()["health"]
            done = health["last_processed_block"]
            if done is not None and done >= start + 10:
                break
            assert loop.time() < end, health
            await asyncio.sleep(0.02)
        kill_hard(doomed)
        assert await doomed.wait() == -signal.SIGKILL
        stopped_at = (await client.get(f"/v1/sources/{w.source_id}")).json()["health"]
        assert stopped_at["last_processed_block"] < head, "killed after the catch-up ended"

        # Two workers now race for the source: one follows it, the other must not.
        await cluster.worker()
        await cluster.worker()
        expected = TRANSFERS * len(CONFIRMATIONS)
        await receiver.wait_for(expected, timeout=120)
        end = loop.time() + 60
        while True:
            health = (await client.get(f"/v1/sources/{w.source_id}")).json()["health"]
            if health["last_processed_block"] >= head:
                break
            assert loop.time() < end, health
            await asyncio.sleep(0.05)

        # Each notification was published once: one event id, though a delivery that was
        # in flight when the worker died may have arrived twice (same webhook-id).
        ids: defaultdict[tuple[str, int], set[str]] = defaultdict(set)
        for r in receiver.received:
            event = orjson.loads(r.body)
            assert event["id"] == r.headers["webhook-id"]
            ids[(event["data"]["tx_hash"], event["data"]["confirmation"])].add(event["id"])
        assert set(ids) == {(tx, c) for tx in sent for c in CONFIRMATIONS}
        assert all(len(v) == 1 for v in ids.values())
        r = await client.get("/v1/events", params={"limit": 250})
        assert len(r.json()["data"]) == expected
        await client.aclose()
    finally:
        await cluster.stop()
        await proxy.stop()
