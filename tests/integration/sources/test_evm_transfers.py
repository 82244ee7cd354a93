"""A source follows a real ganache node and publishes native and token transfers of
watched addresses, at each confirmation count, to a real receiver."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.support.evm import ETHER, Ganache
from tests.support.receiver import Receiver
from tests.support.server import Running
from tests.support.sources import events, notifications, processed, until, watch

pytestmark = pytest.mark.slow


def _of(got: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e["data"] for e in got if e["type"] == kind]


async def test_native_transfer_at_each_confirmation(
    make_hookline: Callable[..., Awaitable[Running]], ganache: Ganache, receiver: Receiver
) -> None:
    hookline = await make_hookline()
    client = await hookline.new_account()
    sender, watched = ganache.accounts[0], ganache.accounts[1]
    w = await watch(
        client,
        receiver,
        ganache.url,
        [watched.upper().replace("0X", "0x")],
        confirmations=[0, 1, 3],
    )
    await processed(client, w.source_id, await ganache.head())

    tx = await ganache.send(sender, watched, 2 * ETHER)
    got = await until(receiver, lambda es: len(_of(es, "evm.transaction")) >= 2)
    await ganache.mine(2)
    got = await until(receiver, lambda es: len(_of(es, "evm.transaction")) >= 3)

    by_confirmation = {d["confirmation"]: d for d in _of(got, "evm.transaction")}
    assert sorted(by_confirmation) == [0, 1, 3]
    included = by_confirmation[1]
    receipt = await ganache.receipt(tx)
    assert included["tx_hash"] == tx
    assert included["direction"] == "in"
    assert included["address"].lower() == watched
    assert included["value"] == str(2 * ETHER)
    assert included["block_number"] == int(receipt["blockNumber"], 16)
    assert included["block_hash"] == receipt["blockHash"]
    assert included["chain_id"] == 1337
    assert by_confirmation[3]["block_hash"] == receipt["blockHash"]
    assert by_confirmation[0]["block_number"] is None
    assert all(n == 1 for n in notifications(receiver).values())

    source = (await client.get(f"/v1/sources/{w.source_id}")).json()
    assert source["health"]["head_block"] >= included["block_number"] + 2
    assert source["health"]["last_error"] is None
    metrics = (await hookline.admin.get("/metrics")).text
    assert f'hookline_source_head_block{{source="{w.source_id}"}}' in metrics


async def test_outgoing_and_both_sides(
    make_hookline: Callable[..., Awaitable[Running]], ganache: Ganache, receiver: Receiver
) -> None:
    """A transfer between two watched addresses is one notification for each side."""
    hookline = await make_hookline()
    client = await hookline.new_account()
    a, b = ganache.accounts[1], ganache.accounts[2]
    w = await watch(client, receiver, ganache.url, [a, b], confirmations=[1])
    await processed(client, w.source_id, await ganache.head())
    tx = await ganache.send(a, b, 12345)
    got = await until(receiver, lambda es: len(_of(es, "evm.transaction")) >= 2)
    sides = {(d["address"].lower(), d["direction"]) for d in _of(got, "evm.transaction")}
    assert sides == {(a, "out"), (b, "in")}
    assert {d["tx_hash"] for d in _of(got, "evm.transaction")} == {tx}


async def test_token_transfers(
    make_hookline: Callable[..., Awaitable[Running]], ganache: Ganache, receiver: Receiver
) -> None:
    hookline = await make_hookline()
    client = await hookline.new_account()
    owner, watched, other = ganache.accounts[0], ganache.accounts[1], ganache.accounts[3]
    erc20 = await ganache.deploy("TestToken", ["string", "string", "uint8"], ["Dollar", "USDX", 6])
    erc721 = await ganache.deploy("TestNft", [], [])
    erc1155 = await ganache.deploy("TestMulti", [], [])
    w = await watch(client, receiver, ganache.url, [watched], confirmations=[1])
    await processed(client, w.source_id, await ganache.head())

    await ganache.transact(
        owner, erc20, "mint(address,uint256)", ["address", "uint256"], [owner, 10**9]
    )
    t20 = await ganache.transact(
        owner, erc20, "transfer(address,uint256)", ["address", "uint256"], [watched, 250_000_000]
    )
    t721 = await ganache.transact(
        owner, erc721, "mint(address,uint256)", ["address", "uint256"], [watched, 4242]
    )
    t1155 = await ganache.transact(
        owner,
        erc1155,
        "mint(address,uint256,uint256)",
        ["address", "uint256", "uint256"],
        [watched, 7, 100],
    )
    batch = await ganache.transact(
        watched,
        erc1155,
        "safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)",
        ["address", "address", "uint256[]", "uint256[]", "bytes"],
        [watched, other, [7], [40], b""],
    )
    got = await until(
        receiver,
        lambda es: (
            len(_of(es, "evm.erc20.transfer")) >= 1
            and len(_of(es, "evm.erc721.transfer")) >= 1
            and len(_of(es, "evm.erc1155.transfer")) >= 2
        ),
    )
    (e20,) = _of(got, "evm.erc20.transfer")
    assert e20["tx_hash"] == t20
    assert e20["direction"] == "in"
    assert e20["amount"] == "250000000"
    assert e20["token"]["contract"].lower() == erc20
    assert e20["token"]["symbol"] == "USDX"
    assert e20["token"]["decimals"] == 6
    assert e20["from"].lower() == owner
    (e721,) = _of(got, "evm.erc721.transfer")
    assert e721["tx_hash"] == t721
    assert e721["token_id"] == "4242"
    assert e721["token"]["symbol"] == "TNFT"
    assert e721["token"]["decimals"] is None
    single, sent = sorted(_of(got, "evm.erc1155.transfer"), key=lambda d: d["block_number"])
    assert single["tx_hash"] == t1155
    assert not single["batch"]
    assert single["token_ids"] == ["7"]
    assert single["amounts"] == ["100"]
    assert single["direction"] == "in"
    assert single["token"]["symbol"] is None
    assert sent["tx_hash"] == batch
    assert sent["batch"]
    assert sent["direction"] == "out"
    assert sent["to"].lower() == other
    assert sent["amounts"] == ["40"]
    # The watched address paid for the batch transfer itself: a native transaction out.
    assert any(d["tx_hash"] == batch for d in _of(got, "evm.transaction"))
    assert all(n == 1 for n in notifications(receiver).values())
    assert all(
        isinstance(e["data"]["log_index"], int)
        for e in events(receiver)
        if e["type"] != "evm.transaction"
    )
