"""The worker handoff: a process that serves the API and runs the worker writes each
new delivery already leased to that worker and sends it without a claim; what does
not fit the worker's free slots waits for the claim; a crash loses nothing."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hookline.runtime.sender import Sender
from hookline.runtime.worker import DeliveryWorker
from hookline.store.deliveries import DeliveryRepository
from hookline.store.tables import deliveries
from tests.support.processes import Cluster, kill_hard, new_account, settled_rows
from tests.support.receiver import Receiver, Reply
from tests.support.server import Running, make_settings, settled, start


async def _rows(running: Running) -> list[tuple[str, str | None, int]]:
    async with running.system.db.read() as conn:
        rows = await conn.execute(
            sa.select(
                deliveries.c.status, deliveries.c.lease_owner, deliveries.c.attempts
            ).order_by(deliveries.c.created_at, deliveries.c.id)
        )
        return [(r.status, r.lease_owner, r.attempts) for r in rows]


@pytest.fixture
async def idle_worker(
    tmp_path: Path, database_url: str
) -> AsyncIterator[Callable[..., Awaitable[tuple[Running, DeliveryWorker]]]]:
    """Hookline serving the API, with a delivery worker that takes handed deliveries
    but is not running: nothing claims, and nothing is recorded until it runs."""
    made: list[tuple[Running, Sender, DeliveryWorker]] = []

    async def make(**overrides: Any) -> tuple[Running, DeliveryWorker]:
        settings = make_settings(tmp_path, database_url=database_url, **overrides)
        running = await start(settings, worker=False)
        sender = Sender(
            allow=settings.allow_networks,
            timeout=settings.delivery_timeout,
            max_connections=settings.worker_concurrency,
        )
        await sender.start()
        sys = running.system
        worker = DeliveryWorker(
            DeliveryRepository(sys.db), sender, settings, sys.wakeup, sys.metrics
        )
        sys.events.messages.handoff = worker
        made.append((running, sender, worker))
        return running, worker

    yield make
    for running, sender, worker in made:
        running.system.events.messages.handoff = None
        worker.stop()
        await running.stop()
        await sender.close()


async def test_a_published_delivery_is_sent_leased_to_the_worker_without_a_claim(
    idle_worker: Callable[..., Awaitable[tuple[Running, DeliveryWorker]]],
    receiver: Receiver,
) -> None:
    running, worker = await idle_worker()
    client = await running.new_account()
    r = await client.post("/v1/webhooks", json={"callback_url": receiver.url})
    assert r.status_code == 201, r.text
    r = await client.post("/v1/events", json={"type": "order.paid", "data": {"n": 1}})
    assert r.status_code == 202, r.text

    (got,) = await receiver.wait_for(1)
    assert got.headers["webhook-id"] == r.json()["event_id"]
    # Sent by the worker that was handed it, which never claimed: the row is its lease,
    # written by the publish itself, and nothing is recorded until the worker runs.
    await asyncio.sleep(0.2)
    assert await _rows(running) == [("sending", worker.owner, 0)]

    task = asyncio.create_task(worker.run())
    try:
        detail = await settled(client, r.json()["event_id"])
        assert [(d["status"], len(d["attempts"])) for d in detail["deliveries"]] == [
            ("succeeded", 1)
        ]
        assert len(receiver.received) == 1
    finally:
        worker.stop()
        await task


async def test_what_the_workers_free_slots_do_not_take_waits_for_the_claim(
    idle_worker: Callable[..., Awaitable[tuple[Running, DeliveryWorker]]],
    make_receiver: Callable[..., Awaitable[Receiver]],
) -> None:
    slow = await make_receiver(lambda _r, n: Reply(delay=0.5) if n == 0 else Reply())
    running, worker = await idle_worker(worker_concurrency=1)
    client = await running.new_account()
    r = await client.post("/v1/webhooks", json={"callback_url": slow.url})
    assert r.status_code == 201, r.text
    ids = []
    for n in range(2):
        r = await client.post("/v1/events", json={"type": "order.paid", "data": {"n": n}})
        assert r.status_code == 202, r.text
        ids.append(r.json()["event_id"])
    # One slot: the first delivery took it; the second is written pending, for a claim.
    assert await _rows(running) == [("sending", worker.owner, 0), ("pending", None, 0)]

    task = asyncio.create_task(worker.run())
    try:
        for event_id in ids:
            detail = await settled(client, event_id)
            assert [d["status"] for d in detail["deliveries"]] == ["succeeded"]
        assert sorted(x.headers["webhook-id"] for x in slow.received) == sorted(ids)
    finally:
        worker.stop()
        await task


async def test_a_scheduled_or_controlled_delivery_is_not_handed_over(
    idle_worker: Callable[..., Awaitable[tuple[Running, DeliveryWorker]]],
    receiver: Receiver,
) -> None:
    running, _worker = await idle_worker()
    plain = await running.new_account("plain")
    r = await plain.post("/v1/webhooks", json={"callback_url": receiver.url})
    assert r.status_code == 201, r.text
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = await plain.post("/v1/events", json={"type": "order.paid", "data": {}, "deliver_at": later})
    assert r.status_code == 202, r.text
    limited = await running.new_account("limited")
    r = await limited.post("/v1/webhooks", json={"callback_url": receiver.url, "rate_limit": 5})
    assert r.status_code == 201, r.text
    r = await limited.post("/v1/events", json={"type": "order.paid", "data": {}})
    assert r.status_code == 202, r.text
    # Both wait for a claim: one until its time, one for its rate limit's turn.
    assert await _rows(running) == [("pending", None, 0), ("pending", None, 0)]
    assert receiver.received == []


@pytest.mark.slow
async def test_a_handed_delivery_survives_kill_9_of_its_process(
    make_receiver: Callable[..., Awaitable[Receiver]], database_url: str, tmp_path: Path
) -> None:
    # The first attempt is still waiting for its answer when the process dies.
    rx = await make_receiver(lambda _r, n: Reply(delay=8) if n == 0 else Reply())
    cluster = Cluster(
        database_url, tmp_path, poll_interval=0.1, delivery_timeout=1.0, lease_seconds=6.0
    )
    try:
        doomed = await cluster.api(worker=True, delivery_timeout=10.0, lease_seconds=15.0)
        client = await new_account(doomed)
        r = await client.post("/v1/webhooks", json={"callback_url": rx.url})
        assert r.status_code == 201, r.text
        r = await client.post("/v1/events", json={"type": "order.paid", "data": {"n": 1}})
        assert r.status_code == 202, r.text
        await client.aclose()
        await rx.wait_for(1)
        kill_hard(doomed)
        assert await doomed.wait() == -signal.SIGKILL

        await cluster.worker()
        rows = await settled_rows(database_url, timeout=40)
        assert [(status, attempts) for status, _, attempts in rows] == [("succeeded", 1)]
        assert [x.headers["webhook-id"] for x in rx.received] == [r.json()["event_id"]] * 2
    finally:
        await cluster.stop()
