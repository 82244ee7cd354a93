"""A follow step commits its events and its cursor together, and only while its worker
holds the source's lease."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from hookline.domain.sources import Cursor
from hookline.sources.base import Publication, Step
from hookline.store.sources import LeaseLost
from tests.support.server import Running

BLOCK = "0x" + "aa" * 32


def _step(block: int, key: str) -> Step:
    return Step(
        head=block,
        events=[Publication("test.step", {"n": block}, key)],
        cursor=Cursor(block, BLOCK),
        blocks=[(block, BLOCK)],
    )


async def test_a_step_commits_only_under_the_lease_and_all_or_nothing(
    make_hookline: Callable[..., Awaitable[Running]],
) -> None:
    hookline = await make_hookline(worker=False)
    client = await hookline.new_account()
    r = await client.post(
        "/v1/sources", json={"kind": "evm", "name": "x", "rpc_url": "http://127.0.0.1:9/"}
    )
    source_id = r.json()["source_id"]
    sources = hookline.system.sources
    assert await sources.claim("worker-a", lease_seconds=30, limit=10) == [source_id]
    # Held by worker-a: nobody else can claim it.
    assert await sources.claim("worker-b", lease_seconds=30, limit=10) == []
    state = await sources.follow_state(source_id, "worker-a", 30)
    assert state is not None
    assert await sources.follow_state(source_id, "worker-b", 30) is None

    # Worker-b's step publishes nothing and moves nothing.
    with pytest.raises(LeaseLost):
        await sources.commit_step(state.source, "worker-b", _step(7, "k-7"))
    assert (await client.get("/v1/events")).json()["data"] == []
    health = (await client.get(f"/v1/sources/{source_id}")).json()["health"]
    assert health["last_processed_block"] is None

    published = await sources.commit_step(state.source, "worker-a", _step(7, "k-7"))
    assert [p.created for p in published] == [True]
    health = (await client.get(f"/v1/sources/{source_id}")).json()["health"]
    assert (health["last_processed_block"], health["last_processed_hash"]) == (7, BLOCK)
    assert len((await client.get("/v1/events")).json()["data"]) == 1

    # Paused: the lease is gone and a late commit of the former holder changes nothing.
    await client.post(f"/v1/sources/{source_id}/pause")
    with pytest.raises(LeaseLost):
        await sources.commit_step(state.source, "worker-a", _step(8, "k-8"))
    assert len((await client.get("/v1/events")).json()["data"]) == 1
    health = (await client.get(f"/v1/sources/{source_id}")).json()["health"]
    assert health["last_processed_block"] == 7
