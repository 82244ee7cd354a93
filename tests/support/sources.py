"""Helpers of the chain-source tests: a source with a watched address and a webhook for
its events, and reading what the receiver got."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema
import orjson

from hookline.sources.families import source_event_types
from tests.support.receiver import Receiver


@dataclass
class Watching:
    client: httpx.AsyncClient
    source_id: str
    webhook_id: str


async def watch(
    client: httpx.AsyncClient,
    receiver: Receiver,
    rpc_url: str,
    addresses: list[str],
    **source: Any,
) -> Watching:
    """A webhook for ``evm.*`` to ``receiver``, and a source watching ``addresses``."""
    r = await client.post(
        "/v1/webhooks",
        json={
            "callback_url": f"{receiver.url}/hooks",
            "events": ["evm.*"],
            "retry_policy": {"schedule": [0.2, 0.2, 0.2]},
        },
    )
    assert r.status_code == 201, r.text
    webhook_id = r.json()["webhook_id"]
    body = {"kind": "evm", "name": "local", "rpc_url": rpc_url, "poll_interval": 0.1, **source}
    r = await client.post("/v1/sources", json=body)
    assert r.status_code == 201, r.text
    source_id = r.json()["source_id"]
    r = await client.post(
        f"/v1/sources/{source_id}/addresses",
        json={"addresses": [{"address": a} for a in addresses]},
    )
    assert r.status_code == 201, r.text
    return Watching(client, source_id, webhook_id)


async def processed(
    client: httpx.AsyncClient, source_id: str, block: int, timeout: float = 30.0
) -> dict[str, Any]:
    """The source once its last processed block is at least ``block``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        source = (await client.get(f"/v1/sources/{source_id}")).json()
        done = source["health"]["last_processed_block"]
        if done is not None and done >= block:
            return dict(source)
        if loop.time() > end:
            raise AssertionError(f"source did not reach block {block}: {source}")
        await asyncio.sleep(0.05)


SCHEMAS = {spec.name: spec.schema for spec in source_event_types()}


def events(receiver: Receiver) -> list[dict[str, Any]]:
    """Every event the receiver got, parsed (duplicates included); each one's data is
    checked against the JSON Schema its type registers."""
    got = [orjson.loads(r.body) for r in receiver.received]
    for event in got:
        jsonschema.validate(event["data"], SCHEMAS[event["type"]])
    return got


def notifications(receiver: Receiver) -> Counter[tuple[Any, ...]]:
    """How often each notification arrived, by (type, tx, log index, address, direction,
    confirmation, block hash)."""
    return Counter(
        (
            e["type"],
            e["data"].get("tx_hash"),
            e["data"].get("log_index"),
            e["data"].get("address"),
            e["data"].get("direction"),
            e["data"].get("confirmation"),
            e["data"].get("block_hash"),
        )
        for e in events(receiver)
        if e["type"] != "evm.reorg"
    )


async def until(receiver: Receiver, check: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Wait until ``check(events)`` is true; fail with what arrived otherwise."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        got = events(receiver)
        if check(got):
            return got
        if loop.time() > end:
            summary = [(e["type"], e["data"].get("confirmation")) for e in got]
            raise AssertionError(f"the receiver got {summary}")
        await asyncio.sleep(0.05)
