"""PostgreSQL specifics: concurrent claims never overlap, and a stuck database answers
503 instead of hanging."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event as sa_event

from hookline.config import Settings
from hookline.runtime.wakeup import CallWatch
from hookline.store.deliveries import DeliveryRepository
from hookline.store.notify import CALL_CHANNEL, PgListener, PgNotifier
from hookline.system import open_database
from tests.support import postgres
from tests.support.gateway import call, list_api, party
from tests.support.receiver import Receiver
from tests.support.server import Running, make_settings, start
from tests.support.upstream import Upstream

DELIVERIES = 300
CLAIMERS = 6


@pytest.fixture
async def on_postgres(postgres_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    """Hookline's API on PostgreSQL, without a worker: the test does the claiming."""
    running = await start(
        make_settings(tmp_path, database_url=postgres_url, db_command_timeout=1.0), worker=False
    )
    yield running
    await running.stop()


async def test_concurrent_claims_never_overlap(on_postgres: Running, postgres_url: str) -> None:
    acme = await on_postgres.new_account()
    for _ in range(3):
        r = await acme.post("/v1/webhooks", json={"callback_url": "http://127.0.0.1:9/"})
        assert r.status_code == 201, r.text
    gate = asyncio.Semaphore(8)

    async def publish(n: int) -> None:
        async with gate:
            r = await acme.post("/v1/events", json={"type": "a", "data": {"n": n}})
        assert r.status_code == 202, r.text

    await asyncio.gather(*(publish(n) for n in range(DELIVERIES // 3)))
    await acme.aclose()

    # Separate engines, as separate worker processes would have.
    # The same keys too: a claim reads the endpoint's (sealed) secrets.
    sealer = on_postgres.system.db.sealer
    databases = [
        open_database(Settings(database_url=postgres_url, db_pool_size=1), sealer)
        for _ in range(CLAIMERS)
    ]

    async def claimer(k: int) -> list[str]:
        repo = DeliveryRepository(databases[k])
        mine: list[str] = []
        while True:
            now = datetime.now(UTC)
            got = await repo.claim_due(
                f"claimer-{k}", now=now, lease_until=now + timedelta(minutes=5), limit=7
            )
            if not got:
                return mine
            mine += [d.delivery_id for d in got]

    try:
        claimed = await asyncio.gather(*(claimer(k) for k in range(CLAIMERS)))
    finally:
        await asyncio.gather(*(db.close() for db in databases))
    counts = Counter(d for ids in claimed for d in ids)
    assert len(counts) == DELIVERIES
    assert set(counts.values()) == {1}, "a delivery was claimed twice"
    assert sum(1 for ids in claimed if ids) > 1, "the claimers did not run side by side"


async def test_a_stuck_database_answers_503_not_a_hang(
    on_postgres: Running, postgres_url: str
) -> None:
    acme = await on_postgres.new_account()
    assert (await acme.get("/v1/webhooks")).status_code == 200
    # Another session holds a lock that listing webhooks waits for.
    blocker = await asyncpg.connect(postgres_url, timeout=5)
    try:
        async with blocker.transaction():
            await blocker.execute("LOCK TABLE endpoints IN ACCESS EXCLUSIVE MODE")
            r = await acme.get("/v1/webhooks")
            assert r.status_code == 503
            assert r.json()["code"] == "database_unavailable"
            assert r.headers["retry-after"] == "1"
        assert (await acme.get("/v1/webhooks")).status_code == 200
    finally:
        await blocker.close()
        await acme.aclose()


async def test_connections_the_server_dropped_are_replaced_not_failed(
    on_postgres: Running, postgres_url: str
) -> None:
    """The server kills every pooled connection between requests: the next requests
    still succeed, because the ping at checkout finds each dead one and the pool draws
    another."""
    acme = await on_postgres.new_account()
    # Several connections in the pool, each used.
    results = await asyncio.gather(*(acme.get("/v1/webhooks") for _ in range(4)))
    assert all(r.status_code == 200 for r in results)
    admin = await asyncpg.connect(postgres_url, timeout=5)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND application_name = 'hookline'"
        )
        assert killed >= 1
        for _ in range(6):
            r = await acme.get("/v1/webhooks")
            assert r.status_code == 200, r.text
        r = await acme.post("/v1/events", json={"type": "a", "data": {}})
        assert r.status_code == 202, r.text
    finally:
        await admin.close()
        await acme.aclose()


def test_postgres_helpers_name_databases_safely() -> None:
    with pytest.raises(ValueError, match="unexpected database name"):
        postgres._ident('x"; DROP DATABASE postgres; --')


async def test_racing_publishes_with_one_idempotency_key_get_one_event(
    postgres_url: str, tmp_path: Path
) -> None:
    """Two API processes that see the same key at the same moment both answer with the
    one event that won, never an error."""
    first = await start(make_settings(tmp_path, database_url=postgres_url), worker=False)
    second = await start(make_settings(tmp_path, database_url=postgres_url), worker=False)
    try:
        r = await first.admin.post("/v1/accounts", json={"name": "acme"})
        key = r.json()["api_key"]["key"]
        clients = [first.client(key), second.client(key)]
        for n in range(25):
            answers = await asyncio.gather(
                *(
                    c.post("/v1/events", json={"type": "a", "idempotency_key": f"k{n}"})
                    for c in clients
                )
            )
            assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
            assert answers[0].json()["event_id"] == answers[1].json()["event_id"]
            assert sorted(a.json()["duplicate"] for a in answers) == [False, True]
        listed = await clients[0].get("/v1/events", params={"limit": 250})
        assert len(listed.json()["data"]) == 25
    finally:
        await second.stop()
        await first.stop()


async def test_call_changes_reach_other_processes_listeners_with_the_call_id(
    postgres_url: str,
) -> None:
    """``notify_call`` sends the call id; a listener elsewhere hands it to its waiters."""
    db = open_database(Settings(database_url=postgres_url, db_pool_size=1))
    watch = CallWatch()
    listener = PgListener(db, watch.wake_all, channel=CALL_CHANNEL, on_payload=watch.wake)
    task = asyncio.create_task(listener.run())
    notifier = PgNotifier(db, lambda: None)
    try:
        await asyncio.wait_for(listener.connected.wait(), 10)
        with watch.watching("call_mine") as mine, watch.watching("call_other") as other:
            mine.clear()
            other.clear()
            notifier.notify_call("call_mine")
            await asyncio.wait_for(mine.wait(), 10)
            assert not other.is_set()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await notifier.close()
        await db.close()


async def test_publishes_wake_other_processes_workers_and_calls_their_runners(
    postgres_url: str, tmp_path: Path, receiver: Receiver, upstream: Upstream
) -> None:
    """A publish in one process wakes the delivery worker of another, not its gateway
    runner; a call accepted in one process wakes the runner of another. Both long
    before the other process would poll (30 s)."""
    api = await start(make_settings(tmp_path, database_url=postgres_url), worker=False)
    work = await start(
        make_settings(tmp_path, database_url=postgres_url, poll_interval=30.0), worker=True
    )
    looked: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().startswith("SELECT calls.id") and "calls.status" in statement:
            looked.append(statement)  # the runner's look for queued calls

    engine = work.system.db.engine.sync_engine
    try:
        owner, consumer = await party(api, "owner"), await party(api, "consumer")
        await consumer.client.post("/v1/webhooks", json={"callback_url": receiver.url})
        await asyncio.sleep(0.5)  # the worker's start-up rounds are over
        sa_event.listen(engine, "before_cursor_execute", count)
        for n in range(20):
            r = await consumer.client.post("/v1/events", json={"type": "a", "data": {"n": n}})
            assert r.status_code == 202, r.text
        await receiver.wait_for(20, timeout=10)
        assert looked == []

        listed = await list_api(owner, upstream.url)
        made = await call(consumer, listed["api_id"], method="POST", path="/x", params={})
        (got,) = await upstream.wait_for(1, timeout=10)
        assert got.headers["hookline-request-id"] == made["request_id"]
        assert len(looked) >= 1
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
        await work.stop()
        await api.stop()
