"""Nothing is dropped while a webhook is disabled: held deliveries, recover, bulk
retry (background, chunked) and resend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson

from tests.support.receiver import Reply
from tests.support.server import Running, settled


async def _hook(client, url: str, **extra):  # type: ignore[no-untyped-def]
    r = await client.post("/v1/webhooks", json={"callback_url": url, **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def _finished(client, requeue: dict, timeout: float = 20.0) -> dict:  # type: ignore[no-untyped-def]
    end = asyncio.get_running_loop().time() + timeout
    while True:
        job = (await client.get(f"/v1/requeues/{requeue['requeue_id']}")).json()
        if job["status"] == "done":
            return job  # type: ignore[no-any-return]
        assert asyncio.get_running_loop().time() < end, job
        await asyncio.sleep(0.05)


def _ago(seconds: float = 60) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat()


async def test_held_while_disabled_then_recovered_in_chunks(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(requeue_chunk=2)
    rx = await make_receiver()
    acme = await hookline.new_account()
    hook = await _hook(acme, rx.url)
    hid = hook["webhook_id"]
    await acme.patch(f"/v1/webhooks/{hid}", json={"active": False})
    published = []
    for i in range(5):
        r = (await acme.post("/v1/events", json={"type": "t", "data": {"i": i}})).json()
        assert r["deliveries"] == 0
        assert r["held"] == 1
        published.append(r["event_id"])
    log = (await acme.get(f"/v1/webhooks/{hid}/deliveries", params={"status": "held"})).json()
    assert len(log["data"]) == 5
    stats = (await acme.get(f"/v1/webhooks/{hid}/stats")).json()
    assert stats["counts"]["held"] == 5
    # Re-enabling sends nothing old.
    await acme.patch(f"/v1/webhooks/{hid}", json={"active": True})
    assert await rx.quiet(0.5) == 0
    r = await acme.post(f"/v1/webhooks/{hid}/recover", json={"since": _ago()})
    assert r.status_code == 202, r.text
    assert r.json()["queued"] == 5
    job = await _finished(acme, r.json())
    assert job["done"] == 5
    got = await rx.wait_for(5)
    assert sorted(orjson.loads(g.body)["id"] for g in got) == sorted(published)
    for event_id in published:
        (d,) = (await settled(acme, event_id))["deliveries"]
        assert d["status"] == "succeeded"
    # Nothing left to recover: the same request queues nothing.
    again = await acme.post(f"/v1/webhooks/{hid}/recover", json={"since": _ago()})
    assert again.json()["queued"] == 0
    assert await rx.quiet(0.3) == 0
    await acme.aclose()


async def test_recover_failed_in_a_window_only(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    up = False
    rx = await make_receiver(lambda _r, _n: Reply(200) if up else Reply(500))
    acme = await hookline.new_account()
    hid = (await _hook(acme, rx.url, retry_policy={"schedule": [0.05]}))["webhook_id"]
    old = (await acme.post("/v1/events", json={"type": "t", "data": {}})).json()
    await settled(acme, old["event_id"])
    await asyncio.sleep(0.05)
    cut = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.05)
    new = (await acme.post("/v1/events", json={"type": "t", "data": {}})).json()
    await settled(acme, new["event_id"])
    up = True
    r = await acme.post(f"/v1/webhooks/{hid}/recover", json={"since": cut, "statuses": ["failed"]})
    assert r.status_code == 202
    assert r.json()["queued"] == 1
    await _finished(acme, r.json())
    (d,) = (await settled(acme, new["event_id"]))["deliveries"]
    assert d["status"] == "succeeded"
    assert d["attempt_count"] == 3  # two scheduled, then one more, like a manual retry
    (d_old,) = (await settled(acme, old["event_id"]))["deliveries"]
    assert d_old["status"] == "failed"
    await acme.aclose()


async def test_bulk_retry_by_filters(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    up = False
    rx = await make_receiver(lambda _r, _n: Reply(200) if up else Reply(500))
    acme = await hookline.new_account()
    await _hook(acme, rx.url, retry_policy={"schedule": [0.05]})
    ids = {}
    for kind in ("a.one", "a.one", "b.two"):
        ev = (await acme.post("/v1/events", json={"type": kind, "data": {}})).json()
        ids.setdefault(kind, []).append(ev["event_id"])
    for event_ids in ids.values():
        for event_id in event_ids:
            await settled(acme, event_id)
    up = True
    before = len(rx.received)
    r = await acme.post(
        "/v1/deliveries/retry", json={"event_type": "a.one", "status": "failed", "since": _ago()}
    )
    assert r.status_code == 202, r.text
    assert r.json()["queued"] == 2
    await _finished(acme, r.json())
    got = await rx.wait_for(before + 2)
    assert {orjson.loads(g.body)["id"] for g in got[before:]} == set(ids["a.one"])
    (b,) = (await settled(acme, ids["b.two"][0]))["deliveries"]
    assert b["status"] == "failed"
    await acme.aclose()


async def test_resend_to_a_webhook_that_never_subscribed(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    orders, other = await make_receiver(), await make_receiver()
    acme = await hookline.new_account()
    await _hook(acme, orders.url, events=["order.*"])
    hid = (await _hook(acme, other.url, events=["user.*"]))["webhook_id"]
    ev = (await acme.post("/v1/events", json={"type": "order.paid", "data": {"n": 7}})).json()
    assert ev["deliveries"] == 1
    r = await acme.post(f"/v1/events/{ev['event_id']}/resend", json={"webhook_id": hid})
    assert r.status_code == 202, r.text
    assert r.json()["webhook_id"] == hid
    assert r.json()["delivery_id"].startswith("dlv_")
    (got,) = await other.wait_for(1)
    body = orjson.loads(got.body)
    assert body["id"] == ev["event_id"]
    assert body["data"] == {"n": 7}
    assert body["webhook_id"] == hid
    await acme.aclose()


async def test_bad_requests(hookline: Running, receiver) -> None:  # type: ignore[no-untyped-def]
    acme = await hookline.new_account()
    hid = (await _hook(acme, receiver.url))["webhook_id"]
    cases = [
        ("/v1/webhooks/ep_nope/recover", {"since": _ago()}, 404, "webhook_not_found"),
        (f"/v1/webhooks/{hid}/recover", {}, 422, "validation_error"),
        (f"/v1/webhooks/{hid}/recover", {"since": "2026-01-01T00:00:00"}, 422, "validation_error"),
        (f"/v1/webhooks/{hid}/recover", {"since": 0}, 422, "validation_error"),
        ("/v1/deliveries/retry", {"until": 1.5e9}, 422, "validation_error"),
        (
            f"/v1/webhooks/{hid}/recover",
            {"since": _ago(), "statuses": ["succeeded"]},
            422,
            "validation_error",
        ),
        (
            f"/v1/webhooks/{hid}/recover",
            {"since": _ago(10), "until": _ago(20)},
            422,
            "invalid_window",
        ),
        ("/v1/deliveries/retry", {"status": "pending"}, 422, "validation_error"),
        ("/v1/deliveries/retry", {"nope": 1}, 422, "validation_error"),
        ("/v1/events/msg_nope/resend", {"webhook_id": hid}, 404, "event_not_found"),
    ]
    for path, body, status, code in cases:
        r = await acme.post(path, json=body)
        assert (r.status_code, r.json()["code"]) == (status, code), (path, body, r.text)
    ev = (await acme.post("/v1/events", json={"type": "t", "data": {}})).json()
    r = await acme.post(f"/v1/events/{ev['event_id']}/resend", json={"webhook_id": "ep_x"})
    assert (r.status_code, r.json()["code"]) == (404, "webhook_not_found")
    await acme.patch(f"/v1/webhooks/{hid}", json={"active": False})
    r = await acme.post(f"/v1/webhooks/{hid}/recover", json={"since": _ago()})
    assert (r.status_code, r.json()["code"]) == (409, "webhook_not_active")
    r = await acme.post(f"/v1/events/{ev['event_id']}/resend", json={"webhook_id": hid})
    assert (r.status_code, r.json()["code"]) == (409, "webhook_not_active")
    # Another account sees none of it.
    other = await hookline.new_account("other")
    r = await other.post(f"/v1/webhooks/{hid}/recover", json={"since": _ago()})
    assert r.status_code == 404
    await acme.aclose()


async def test_deleting_a_webhook_cancels_what_it_held(hookline: Running, receiver) -> None:  # type: ignore[no-untyped-def]
    acme = await hookline.new_account()
    hid = (await _hook(acme, receiver.url))["webhook_id"]
    await acme.patch(f"/v1/webhooks/{hid}", json={"active": False})
    ev = (await acme.post("/v1/events", json={"type": "t", "data": {}})).json()
    assert ev["held"] == 1
    await acme.delete(f"/v1/webhooks/{hid}")
    (d,) = (await acme.get(f"/v1/events/{ev['event_id']}")).json()["deliveries"]
    assert d["status"] == "cancelled"
    await acme.aclose()


async def test_a_requeue_left_by_a_dead_runner_is_resumed_where_it_stopped(
    make_hookline, receiver
) -> None:  # type: ignore[no-untyped-def]
    # No worker: this test plays two runners by hand through the repository.
    hookline = await make_hookline(worker=False)
    acme = await hookline.new_account()
    hid = (await _hook(acme, receiver.url))["webhook_id"]
    await acme.patch(f"/v1/webhooks/{hid}", json={"active": False})
    for _ in range(5):
        await acme.post("/v1/events", json={"type": "t", "data": {}})
    await acme.patch(f"/v1/webhooks/{hid}", json={"active": True})
    accepted = (await acme.post(f"/v1/webhooks/{hid}/recover", json={"since": _ago()})).json()
    repo = hookline.system.requeue.repo
    now = datetime.now(UTC)
    first = await repo.claim("runner-a", now, now + timedelta(seconds=60))
    assert first is not None
    assert first.id == accepted["requeue_id"]
    step = await repo.run_chunk(
        first, "runner-a", now=now, lease_until=now + timedelta(seconds=60), size=2
    )
    assert step is not None
    assert step[1] == 2
    # Runner A dies here. Its lease holds the job until it runs out...
    assert await repo.claim("runner-b", now, now + timedelta(seconds=60)) is None
    later = now + timedelta(seconds=61)
    resumed = await repo.claim("runner-b", later, later + timedelta(seconds=60))
    assert resumed is not None
    assert resumed.last_id == step[0].last_id
    # ...and A, back from the dead, can no longer write to it.
    lease = later + timedelta(seconds=60)
    assert await repo.run_chunk(first, "runner-a", now=later, lease_until=lease, size=2) is None
    queued = 0
    while True:
        step = await repo.run_chunk(resumed, "runner-b", now=later, lease_until=lease, size=2)
        assert step is not None
        resumed, n = step
        queued += n
        if resumed.status == "done":
            break
    assert queued == 3
    job = (await acme.get(f"/v1/requeues/{accepted['requeue_id']}")).json()
    assert (job["status"], job["queued"], job["done"]) == ("done", 5, 5)
    pending = await acme.get("/v1/deliveries", params={"webhook_id": hid, "status": "pending"})
    assert len(pending.json()["data"]) == 5
    await acme.aclose()
