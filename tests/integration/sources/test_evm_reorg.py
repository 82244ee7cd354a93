"""Reorganisations (made with the node's snapshot and revert) and RPC outages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.support.evm import Ganache, RpcProxy
from tests.support.receiver import Receiver
from tests.support.server import Running
from tests.support.sources import notifications, processed, until, watch

pytestmark = pytest.mark.slow


def _txs(got: list[dict[str, Any]], confirmation: int) -> set[str]:
    return {
        e["data"]["tx_hash"]
        for e in got
        if e["type"] == "evm.transaction" and e["data"]["confirmation"] == confirmation
    }


async def test_a_replaced_block_is_named_in_a_reorg_event_and_the_new_chain_notified(
    make_hookline: Callable[..., Awaitable[Running]], ganache: Ganache, receiver: Receiver
) -> None:
    hookline = await make_hookline()
    client = await hookline.new_account()
    sender, watched = ganache.accounts[0], ganache.accounts[1]
    w = await watch(client, receiver, ganache.url, [watched], confirmations=[1, 3])
    await processed(client, w.source_id, await ganache.head())

    fork_point = await ganache.snapshot()
    orphan = await ganache.send(sender, watched, 111)
    got = await until(receiver, lambda es: orphan in _txs(es, 1))
    (first,) = [e for e in got if e["data"].get("tx_hash") == orphan]
    orphan_block = first["data"]["block_hash"]

    await ganache.revert(fork_point)
    replacement = await ganache.send(sender, watched, 222)
    await ganache.mine(3)
    # Deliveries are unordered: the replacement's first confirmation may arrive after its
    # third, so wait for both.
    got = await until(
        receiver,
        lambda es: (
            replacement in _txs(es, 1) & _txs(es, 3) and any(e["type"] == "evm.reorg" for e in es)
        ),
    )
    (reorg,) = [e["data"] for e in got if e["type"] == "evm.reorg"]
    (named,) = reorg["notifications"]
    assert named["tx_hash"] == orphan
    assert named["block_hash"] == orphan_block
    assert named["event_ids"] == [first["id"]]
    assert reorg["common_ancestor"] == first["data"]["block_number"] - 1
    # The orphaned transaction never reaches 3 confirmations; its replacement does.
    assert orphan not in _txs(got, 3)
    assert all(n == 1 for n in notifications(receiver).values())


async def test_an_rpc_outage_leaves_a_gap_in_time_not_in_blocks(
    make_hookline: Callable[..., Awaitable[Running]], ganache: Ganache, receiver: Receiver
) -> None:
    proxy = await RpcProxy(ganache.url).start()
    try:
        hookline = await make_hookline(source_retry_max=0.5)
        client = await hookline.new_account()
        sender, watched = ganache.accounts[0], ganache.accounts[1]
        w = await watch(client, receiver, proxy.url, [watched], confirmations=[1])
        await processed(client, w.source_id, await ganache.head())

        proxy.down = True
        sent = [await ganache.send(sender, watched, 1000 + i) for i in range(3)]
        await ganache.mine(5)
        loop = asyncio.get_running_loop()
        end = loop.time() + 20
        while True:
            health = (await client.get(f"/v1/sources/{w.source_id}")).json()["health"]
            if health["last_error"]:
                break
            assert loop.time() < end, health
            await asyncio.sleep(0.05)
        assert "503" in health["last_error"]
        assert not receiver.received

        proxy.down = False
        got = await until(receiver, lambda es: set(sent) <= _txs(es, 1))
        assert len(got) == 3
        health = (await processed(client, w.source_id, await ganache.head()))["health"]
        assert health["last_error"] is None
        assert health["lag"] == 0
    finally:
        await proxy.stop()


async def test_a_node_of_another_chain_is_reported_not_followed(
    make_hookline: Callable[..., Awaitable[Running]], ganache: Ganache, receiver: Receiver
) -> None:
    hookline = await make_hookline(source_retry_max=0.5)
    client = await hookline.new_account()
    w = await watch(client, receiver, ganache.url, [ganache.accounts[1]], chain_id=1)
    loop = asyncio.get_running_loop()
    end = loop.time() + 20
    while True:
        source = (await client.get(f"/v1/sources/{w.source_id}")).json()
        if source["health"]["last_error"]:
            break
        assert loop.time() < end, source
        await asyncio.sleep(0.05)
    assert "chain 1337, not 1" in source["health"]["last_error"]
    assert source["health"]["last_processed_block"] is None
    await ganache.send(ganache.accounts[0], ganache.accounts[1], 5)
    assert await receiver.quiet(0.5) == 0
    # Pointing it at the right chain lets it start.
    r = await client.patch(f"/v1/sources/{w.source_id}", json={"chain_id": 1337})
    assert r.status_code == 200, r.text
    health = (await processed(client, w.source_id, await ganache.head()))["health"]
    assert health["last_error"] is None


async def test_pending_notifications_survive_a_step_that_fails_after_reading_them(
    make_hookline: Callable[..., Awaitable[Running]], ganache: Ganache, receiver: Receiver
) -> None:
    """The node reports a pending transaction once; a step that fails after reading it
    must still publish it later."""
    proxy = await RpcProxy(ganache.url).start()
    try:
        hookline = await make_hookline(source_retry_max=0.3)
        client = await hookline.new_account()
        sender, watched = ganache.accounts[0], ganache.accounts[1]
        w = await watch(client, receiver, proxy.url, [watched], confirmations=[0, 1])
        await processed(client, w.source_id, await ganache.head())
        await ganache.call("miner_stop")
        proxy.refuse = {"eth_getBlockByNumber"}  # every step now fails after the pool
        tx = await ganache.send(sender, watched, 99)
        loop = asyncio.get_running_loop()
        end = loop.time() + 20
        while not (await client.get(f"/v1/sources/{w.source_id}")).json()["health"]["last_error"]:
            assert loop.time() < end
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # several failed steps, each after reading the pool
        assert not receiver.received
        proxy.refuse = set()
        got = await until(receiver, lambda es: tx in _txs(es, 0))
        await ganache.call("miner_start")
        got = await until(receiver, lambda es: tx in _txs(es, 1))
        assert all(n == 1 for n in notifications(receiver).values())
        assert len(got) == 2
    finally:
        await proxy.stop()
