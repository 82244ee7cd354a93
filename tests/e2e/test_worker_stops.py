"""A worker that is killed, or told to stop, under load: nothing it held is lost."""

from __future__ import annotations

import signal
from collections import Counter

import httpx
import orjson
import pytest

from tests.support.processes import (
    Cluster,
    delivery_rows,
    kill_hard,
    new_account,
    settled_rows,
)
from tests.support.receiver import Reply

pytestmark = pytest.mark.slow

EVENTS = 20


async def _publish(client: httpx.AsyncClient, count: int) -> list[str]:
    ids = []
    for i in range(count):
        r = await client.post("/v1/events", json={"type": "a", "data": {"n": i}})
        assert r.status_code == 202, r.text
        ids.append(r.json()["event_id"])
    return ids


async def test_killed_worker_deliveries_arrive_after_the_lease_with_the_same_webhook_id(
    cluster: Cluster,
    make_receiver,
    postgres_url: str,  # type: ignore[no-untyped-def]
) -> None:
    lease = 7.0  # the shortest allowed with a 2 s delivery timeout
    # Slow answers to the first wave, so the doomed worker has all of it in flight.
    receiver = await make_receiver(lambda _r, n: Reply(delay=1.0 if n < EVENTS else 0.0))
    api = await cluster.api()
    acme = await new_account(api)
    r = await acme.post("/v1/webhooks", json={"callback_url": receiver.url})
    assert r.status_code == 201, r.text
    ids = await _publish(acme, EVENTS)
    # Started after publishing, it claims every delivery in one go.
    doomed = await cluster.worker(lease_seconds=lease)
    await receiver.wait_for(5)
    kill_hard(doomed)
    assert await doomed.wait() == -signal.SIGKILL
    held = [row for row in await delivery_rows(postgres_url) if row[1] == doomed.worker_name]
    assert held
    assert all(status == "sending" for status, _, _ in held)

    await cluster.worker(lease_seconds=lease)
    rows = await settled_rows(postgres_url, timeout=lease + 30)
    assert {status for status, _, _ in rows} == {"succeeded"}

    seen = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert set(seen) == set(ids)
    # Sent twice only if the killed worker had it in flight (at least the five that had
    # arrived when it died), and always as the same event.
    twice = [n for n in seen.values() if n > 1]
    assert set(twice) == {2}
    assert 5 <= len(twice) <= len(held)
    for r in receiver.received:
        assert orjson.loads(r.body)["id"] == r.headers["webhook-id"]
    await acme.aclose()


async def test_sigterm_releases_unfinished_deliveries_at_once(
    cluster: Cluster,
    make_receiver,
    postgres_url: str,  # type: ignore[no-untyped-def]
) -> None:
    lease = 120.0  # far longer than the test: anything sent again was released, not expired
    receiver = await make_receiver(lambda _r, n: Reply(delay=5.0 if n < 4 else 0.0))
    api = await cluster.api()
    acme = await new_account(api)
    r = await acme.post("/v1/webhooks", json={"callback_url": receiver.url})
    assert r.status_code == 201, r.text
    ids = await _publish(acme, 12)
    # A share of 32 starts at 4 in flight (see domain/shares.py): the first four sends.
    stopping = await cluster.worker(
        lease_seconds=lease, delivery_timeout=10, shutdown_grace=0.5, endpoint_concurrency=32
    )
    await receiver.wait_for(4)
    stopping.signal(signal.SIGTERM)
    assert await stopping.wait() == 0
    rows = await delivery_rows(postgres_url)
    assert len(rows) == len(ids)
    assert all(status == "pending" and owner is None for status, owner, _ in rows), rows
    assert "released 4 unfinished deliveries" in stopping.output()

    await cluster.worker(lease_seconds=lease)
    await receiver.wait_for(len(ids) + 4, timeout=30)
    assert {r.headers["webhook-id"] for r in receiver.received[4:]} == set(ids)
    await acme.aclose()
