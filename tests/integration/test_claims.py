"""The claim's shapes on both backends: oldest first up to the limit, webhooks left
out when the worker has no room for them, a listen webhook claimed only by name, and
each delivery leased once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hookline.store.deliveries import DeliveryRepository
from tests.support.server import Running


async def test_a_claim_takes_the_oldest_leaves_out_excluded_and_listen_webhooks(
    make_hookline: object,
) -> None:
    running: Running = await make_hookline(worker=False)  # type: ignore[operator]
    acme = await running.new_account()
    ids = []
    for n in range(3):
        r = await acme.post("/v1/webhooks", json={"callback_url": f"http://127.0.0.1:9/{n}"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["webhook_id"])
    r = await acme.post("/v1/webhooks", json={"mode": "listen"})
    assert r.status_code == 201, r.text
    listen = r.json()["webhook_id"]
    for n in range(4):
        r = await acme.post("/v1/events", json={"type": "a", "data": {"n": n}})
        assert r.status_code == 202, r.text
    await acme.aclose()

    repo = DeliveryRepository(running.system.db)
    now = datetime.now(UTC) + timedelta(seconds=1)
    lease = now + timedelta(minutes=5)

    first = await repo.claim_due("w", now=now, lease_until=lease, limit=2)
    assert [json.loads(d.message.payload) for d in first] == [{"n": 0}, {"n": 0}]
    taken = {d.delivery_id for d in first}

    # The webhooks with no room left out: the rest of the first one's events.
    rest = await repo.claim_due(
        "w", now=now, lease_until=lease, limit=100, exclude_endpoints=ids[1:]
    )
    assert {d.endpoint.id for d in rest} == {ids[0]}
    assert len(rest) == 4 - sum(1 for d in first if d.endpoint.id == ids[0])
    taken |= {d.delivery_id for d in rest}

    # Without exclusions: what is left of the other two push webhooks, never a
    # delivery already leased, never the listen webhook's.
    others = await repo.claim_due("w", now=now, lease_until=lease, limit=100)
    assert {d.endpoint.id for d in others} == set(ids[1:])
    assert not taken & {d.delivery_id for d in others}
    assert len(taken) + len(others) == 12

    # One Endpoint object per webhook in a claim, holding that webhook's values.
    by_webhook = {d.endpoint.id: d.endpoint for d in others}
    assert all(d.endpoint is by_webhook[d.endpoint.id] for d in others)

    # The listen webhook's deliveries are claimed by naming it, and only so.
    heard = await repo.claim_due("l", now=now, lease_until=lease, limit=3, endpoint_id=listen)
    assert [json.loads(d.message.payload) for d in heard] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert {d.endpoint.id for d in heard} == {listen}
    assert not await repo.claim_due("w", now=now, lease_until=lease, limit=100)
    # Nothing is due before its time.
    later = await repo.claim_due(
        "l", now=now - timedelta(hours=1), lease_until=lease, limit=3, endpoint_id=listen
    )
    assert not later
