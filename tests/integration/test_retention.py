"""Scheduled delivery (deliver_at) and retention: finished, held and undelivered work
goes after HOOKLINE_RETENTION; pending work and its events stay; one purger at a time."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hookline.config import Settings
from hookline.store.retention import RetentionRepository
from hookline.system import open_database
from tests.support.cli import cli_json, client_env
from tests.support.processes import run_cli
from tests.support.receiver import Reply
from tests.support.server import ADMIN_KEY, Running, settled

pytestmark = pytest.mark.slow


async def _hook(client: Any, url: str, **extra: Any) -> dict[str, Any]:
    r = await client.post("/v1/webhooks", json={"callback_url": url, **extra})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _publish(client: Any, event_type: str, **extra: Any) -> str:
    r = await client.post("/v1/events", json={"type": event_type, "data": {"n": 1}, **extra})
    assert r.status_code == 202, r.text
    return r.json()["event_id"]  # type: ignore[no-any-return]


async def _rows(hookline: Running, table: str) -> int:
    async with hookline.system.db.read() as conn:
        stmt = sa.select(sa.func.count()).select_from(sa.table(table))
        return int((await conn.execute(stmt)).scalar_one())


async def _gone(client: Any, event_id: str, timeout: float = 20.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while (await client.get(f"/v1/events/{event_id}")).status_code != 404:
        assert asyncio.get_running_loop().time() < end, f"{event_id} was not purged"
        await asyncio.sleep(0.1)


async def test_deliver_at_is_a_lower_bound(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline()
    rx = await make_receiver()
    acme = await hookline.new_account()
    await _hook(acme, rx.url)
    wall, mono = time.time(), time.monotonic()
    at = datetime.fromtimestamp(wall, UTC) + timedelta(seconds=1.5)
    batch = await acme.post(
        "/v1/events/batch",
        json={
            "events": [
                {"type": "later", "data": {}, "deliver_at": at.isoformat()},
                {"type": "now", "data": {}},
            ]
        },
    )
    assert batch.status_code == 202, batch.text
    later, now = (p["event_id"] for p in batch.json()["data"])
    shown = (await acme.get(f"/v1/events/{later}")).json()
    assert datetime.fromisoformat(shown["deliver_at"]) == at.replace(
        microsecond=at.microsecond // 1000 * 1000
    )
    assert (await acme.get(f"/v1/events/{now}")).json()["deliver_at"] is None
    first = await rx.wait_for(1)
    assert first[0].body.find(now.encode()) >= 0
    got = await rx.wait_for(2)
    # Not before deliver_at: by the receiver's clock and by the attempt Hookline logged.
    assert got[1].body.find(later.encode()) >= 0
    assert got[1].at >= mono + 1.5 - 0.01
    detail = await settled(acme, later)
    attempt = detail["deliveries"][0]["attempts"][0]
    assert datetime.fromisoformat(attempt["created_at"]) >= datetime.fromisoformat(
        shown["deliver_at"]
    )


async def test_deliver_at_bounds(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(retention="1h")
    rx = await make_receiver()
    acme = await hookline.new_account()
    await _hook(acme, rx.url)
    far = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    r = await acme.post("/v1/events", json={"type": "t", "deliver_at": far})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "deliver_at_too_far"
    r = await acme.post(
        "/v1/events/batch",
        json={"events": [{"type": "t"}, {"type": "t", "deliver_at": far}]},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "deliver_at_too_far"
    assert "events[1]" in r.json()["error"]
    for bad in ("tomorrow", "2026-01-01T00:00:00", 1700000000):
        r = await acme.post("/v1/events", json={"type": "t", "deliver_at": bad})
        assert r.status_code == 422, (bad, r.text)
    # A time in the past means now.
    past = await _publish(acme, "t", deliver_at="2001-02-03T04:05:06Z")
    await rx.wait_for(1)
    assert (await settled(acme, past))["deliveries"][0]["status"] == "succeeded"
    assert (await acme.get("/v1/events")).json()["data"][0]["deliver_at"] == (
        "2001-02-03T04:05:06.000Z"
    )


async def test_finished_and_held_go_pending_stays(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(retention="2s", purge_interval=0.2, purge_batch_size=2)
    ok = await make_receiver()
    down = await make_receiver(lambda _r, _n: Reply(status=500))
    acme = await hookline.new_account()
    await _hook(acme, ok.url, events=["ok"])
    # One failed attempt, then a retry an hour away: pending all along.
    await _hook(acme, down.url, events=["slow"], retry_policy={"schedule": [3600]})
    held_hook = await _hook(acme, ok.url, events=["held"])
    await acme.patch(f"/v1/webhooks/{held_hook['webhook_id']}", json={"active": False})

    done = [await _publish(acme, "ok", idempotency_key=f"k{i}") for i in range(5)]
    held = await _publish(acme, "held")
    pending = await _publish(acme, "slow")
    nobody = await _publish(acme, "unsubscribed")
    await ok.wait_for(5)
    await down.wait_for(1)
    for event_id in [*done, held, nobody]:
        await _gone(acme, event_id)
    detail = (await acme.get(f"/v1/events/{pending}")).json()
    assert [d["status"] for d in detail["deliveries"]] == ["pending"]
    assert len(detail["deliveries"][0]["attempts"]) == 1
    # Only the pending delivery, its attempt, its body and its event are left.
    assert await _rows(hookline, "deliveries") == 1
    assert await _rows(hookline, "attempts") == 1
    assert await _rows(hookline, "request_bodies") == 1
    assert await _rows(hookline, "idempotency_keys") == 0
    # The idempotency key went with its event: it publishes anew.
    r = await acme.post("/v1/events", json={"type": "ok", "idempotency_key": "k0"})
    assert r.json()["duplicate"] is False
    metrics = (await hookline.admin.get("/metrics")).text
    assert 'hookline_purged_rows_total{table="deliveries"}' in metrics
    assert 'hookline_purged_rows_total{table="messages"}' in metrics


async def test_purge_command_dry_run_then_purge(make_hookline, make_receiver, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The worker's own purge runs once at start, then not for an hour.
    hookline = await make_hookline(retention="1s", purge_interval=3600)
    rx = await make_receiver()
    acme = await hookline.new_account()
    await _hook(acme, rx.url)
    first = await _publish(acme, "t")
    await rx.wait_for(1)
    await settled(acme, first)
    await asyncio.sleep(1.2)  # past retention
    env = client_env(tmp_path, hookline.url, ADMIN_KEY)
    dry = await cli_json("purge", "--dry-run", env=env)
    assert dry["dry_run"] is True
    assert dry["removed"] == {
        "deliveries": 1,
        "attempts": 1,
        "request_bodies": 1,
        "messages": 1,
        "idempotency_keys": 0,
    }
    assert (await acme.get(f"/v1/events/{first}")).status_code == 200
    code, out, err = await run_cli("purge", env=env)
    assert code == 0, err
    assert "REMOVED" in out
    assert "deliveries" in out
    assert (await acme.get(f"/v1/events/{first}")).status_code == 404
    again = await cli_json("purge", env=env)
    assert sum(again["removed"].values()) == 0
    # An account's key may not purge.
    r = await acme.post("/v1/admin/purge", json={"dry_run": True})
    assert r.status_code == 403


async def test_one_purger_at_a_time_on_postgres(make_hookline, backend) -> None:  # type: ignore[no-untyped-def]
    if backend != "postgres":
        pytest.skip("the cross-process purge lock is PostgreSQL's")
    # No worker here: the API is this process's only purger.
    hookline = await make_hookline(worker=False)
    # Another process's purger: its own engine, so its own database session.
    other_db = open_database(Settings(database_url=hookline.system.settings.database_url))
    other = RetentionRepository(other_db)
    try:
        async with other.exclusive() as mine:
            assert mine
            r = await hookline.admin.post("/v1/admin/purge", json={"dry_run": False})
            assert r.status_code == 409, r.text
            assert r.json()["code"] == "purge_running"
            # Counting takes no lock.
            r = await hookline.admin.post("/v1/admin/purge", json={"dry_run": True})
            assert r.status_code == 200
            async with other.exclusive() as again:
                assert not again  # nor twice in one process
        r = await hookline.admin.post("/v1/admin/purge", json={})
        assert r.status_code == 200, r.text
        assert r.json()["complete"] is True
    finally:
        await other_db.close()
