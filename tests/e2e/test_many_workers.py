"""Several `hookline worker` processes on one PostgreSQL database share the work without
sending anything twice, and wake on LISTEN/NOTIFY rather than by polling."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import httpx
import orjson
import pytest
import sqlalchemy as sa

from hookline.config import Settings
from hookline.store.tables import attempts as attempts_table
from hookline.system import open_database
from tests.support.processes import Cluster, new_account, settled_rows
from tests.support.receiver import Receiver

EVENTS = 2000
ENDPOINTS = 4

pytestmark = pytest.mark.slow


async def publish_all(client: httpx.AsyncClient, types: list[str]) -> list[str]:
    """Publish one event per type, in batches of 25 (4 requests at a time), so the work
    arrives as a stream of wake-ups; return the event ids in order."""
    gate = asyncio.Semaphore(4)

    async def batch(start: int) -> list[str]:
        events = [
            {"type": t, "data": {"n": start + i}} for i, t in enumerate(types[start : start + 25])
        ]
        async with gate:
            r = await client.post("/v1/events/batch", json={"events": events})
        assert r.status_code == 202, r.text
        return [str(e["event_id"]) for e in r.json()["data"]]

    batches = await asyncio.gather(*(batch(s) for s in range(0, len(types), 25)))
    return [event_id for b in batches for event_id in b]


async def test_three_workers_deliver_every_event_exactly_once(
    cluster: Cluster,
    make_receiver,
    postgres_url: str,  # type: ignore[no-untyped-def]
) -> None:
    # Polling every minute: deliveries arriving sooner were woken by NOTIFY.
    api = await cluster.api(poll_interval=60)
    workers = await asyncio.gather(*(cluster.worker(poll_interval=60) for _ in range(3)))
    acme = await new_account(api)
    receivers: list[Receiver] = [await make_receiver() for _ in range(ENDPOINTS)]
    hooks = []
    for k, rec in enumerate(receivers):
        r = await acme.post("/v1/webhooks", json={"callback_url": rec.url, "events": [f"t{k}"]})
        assert r.status_code == 201, r.text
        hooks.append(r.json()["webhook_id"])

    types = [f"t{i % ENDPOINTS}" for i in range(EVENTS)]
    ids = await publish_all(acme, types)

    for k, rec in enumerate(receivers):
        got = await rec.wait_for(EVENTS // ENDPOINTS, timeout=50)
        seen = Counter((r.headers["webhook-id"], orjson.loads(r.body)["webhook_id"]) for r in got)
        expected = {(ids[i], hooks[k]) for i in range(k, EVENTS, ENDPOINTS)}
        assert set(seen) == expected
    # Nothing more trickles in: no late second sends either.
    assert await receivers[0].quiet(1.0) == 0

    # Each worker took a share (a stopping worker logs how many attempts it made).
    await asyncio.gather(*(w.stop() for w in workers))
    shares = [
        int(m.group(1))
        for w in workers
        for m in [re.search(r"stopped after (\d+) attempts", w.output())]
        if m is not None
    ]
    assert len(shares) == len(workers)
    assert min(shares) > 0, shares

    # Every delivery succeeded exactly once. A second send is allowed only after a recorded
    # failure (a receiver too slow to answer within the timeout on a busy machine), so
    # every request that arrived is an attempt on record and no two workers sent the
    # same delivery.
    rows = await settled_rows(postgres_url)
    assert Counter(status for status, _, _ in rows) == {"succeeded": EVENTS}
    attempts = sum(n for _, _, n in rows)
    assert sum(len(r.received) for r in receivers) == attempts == sum(shares)
    assert await successes_per_delivery(postgres_url) == {1: EVENTS}
    await acme.aclose()


async def successes_per_delivery(database_url: str) -> Counter[int]:
    """How many deliveries have how many 2xx attempts on record."""
    db = open_database(Settings(database_url=database_url, db_pool_size=1))
    ok = attempts_table.c.status_code.between(200, 299)
    try:
        async with db.read() as conn:
            rows = await conn.execute(
                sa.select(sa.func.count()).where(ok).group_by(attempts_table.c.delivery_id)
            )
            return Counter(int(n) for (n,) in rows)
    finally:
        await db.close()
