"""Searching an account's deliveries and a webhook's statistics."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.support.receiver import Reply
from tests.support.server import Running, settled


async def _hook(client, url: str, **extra):  # type: ignore[no-untyped-def]
    r = await client.post("/v1/webhooks", json={"callback_url": url, **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def _all(client, **params):  # type: ignore[no-untyped-def]
    """Every page of a search, following the cursor two at a time."""
    found, cursor = [], None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/v1/deliveries", params=query)
        assert r.status_code == 200, r.text
        page = r.json()
        found += page["data"]
        if not page["has_more"]:
            return found
        cursor = page["next_cursor"]


async def test_search_by_each_filter(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    ok = await make_receiver()
    bad = await make_receiver(lambda _r, _n: Reply(500))
    acme = await hookline.new_account()
    good_hook = (await _hook(acme, ok.url))["webhook_id"]
    bad_hook = (await _hook(acme, bad.url, retry_policy={"schedule": [0.05]}))["webhook_id"]
    events = []
    for kind in ("a.x", "a.x", "b.y"):
        events.append((await acme.post("/v1/events", json={"type": kind, "data": {}})).json())
        await asyncio.sleep(0.01)
    cut = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.01)
    events.append((await acme.post("/v1/events", json={"type": "b.y", "data": {}})).json())
    for ev in events:
        await settled(acme, ev["event_id"])

    everything = await _all(acme)
    assert len(everything) == 8
    ids = [d["delivery_id"] for d in everything]
    assert ids == sorted(ids, reverse=True)  # newest first, no repeats across pages
    assert len(set(ids)) == 8
    assert {d["webhook_id"] for d in await _all(acme, webhook_id=good_hook)} == {good_hook}
    failed = await _all(acme, status="failed")
    assert len(failed) == 4
    assert {d["webhook_id"] for d in failed} == {bad_hook}
    assert len(await _all(acme, event_type="a.x")) == 4
    assert {d["event_type"] for d in await _all(acme, event_type="b.y")} == {"b.y"}
    by_event = await _all(acme, event_id=events[0]["event_id"])
    assert {d["event_id"] for d in by_event} == {events[0]["event_id"]}
    assert len(by_event) == 2
    later = await _all(acme, since=cut)
    assert {d["event_id"] for d in later} == {events[3]["event_id"]}
    earlier = await _all(acme, until=cut, status="succeeded", webhook_id=good_hook)
    assert {d["event_id"] for d in earlier} == {e["event_id"] for e in events[:3]}

    other = await hookline.new_account("other")
    assert (await other.get("/v1/deliveries")).json()["data"] == []
    for params, code in [
        ({"status": "nope"}, "validation_error"),
        ({"since": "yesterday"}, "validation_error"),
        ({"since": "2026-01-01T00:00:00"}, "validation_error"),
        ({"since": "1700000000"}, "validation_error"),  # not read as Unix seconds
        ({"limit": 0}, "validation_error"),
        ({"since": cut, "until": cut}, "invalid_window"),
    ]:
        r = await acme.get("/v1/deliveries", params=params)
        assert (r.status_code, r.json()["code"]) == (422, code), params
    await acme.aclose()


async def test_webhook_stats(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    rx = await make_receiver(lambda r, _n: Reply(500) if b'"fail"' in r.body else Reply(200))
    acme = await hookline.new_account()
    hid = (await _hook(acme, rx.url, retry_policy={"schedule": [0.05]}))["webhook_id"]
    events = []
    for data in ("ok", "ok", "ok", "fail"):
        events.append((await acme.post("/v1/events", json={"type": "t", "data": data})).json())
    for ev in events:
        await settled(acme, ev["event_id"])
    await acme.patch(f"/v1/webhooks/{hid}", json={"active": False})
    await acme.post("/v1/events", json={"type": "t", "data": "ok"})
    r = await acme.get(f"/v1/webhooks/{hid}/stats")
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["counts"]["succeeded"] == 3
    assert stats["counts"]["failed"] == 1
    assert stats["counts"]["held"] == 1
    assert stats["total"] == 5
    assert stats["success_rate"] == 0.75
    times = stats["response_time_ms"]
    assert times["attempts"] == 5  # three successes, two attempts of the failure
    assert 0 <= times["p50"] <= times["p95"]
    future = await acme.get(f"/v1/webhooks/{hid}/stats", params={"since": "2100-01-01T00:00:00Z"})
    assert future.json()["total"] == 0
    assert future.json()["success_rate"] is None
    assert future.json()["response_time_ms"]["p50"] is None
    missing = await acme.get("/v1/webhooks/ep_nope/stats")
    assert (missing.status_code, missing.json()["code"]) == (404, "webhook_not_found")
    await acme.aclose()
