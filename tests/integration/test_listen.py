"""The listen stream's refusals, over HTTP (the flow itself: tests/e2e/test_listen.py)."""

from __future__ import annotations

import asyncio
import json


async def test_streaming_a_push_webhook_is_refused(hookline) -> None:  # type: ignore[no-untyped-def]
    created = await hookline.admin.post("/v1/accounts", json={"name": "a"})
    key = created.json()["api_key"]["key"]
    async with hookline.client(key) as acme:
        hook = (
            await acme.post("/v1/webhooks", json={"callback_url": "https://example.com"})
        ).json()
        r = await acme.get(f"/v1/webhooks/{hook['webhook_id']}/stream")
        assert r.status_code == 409
        assert r.json()["code"] == "webhook_not_listen"
        r = await acme.post("/v1/webhooks", json={"mode": "listen"})
        assert r.status_code == 201, r.text
        r = await acme.post(
            "/v1/deliveries/dlv_nope/report", json={"session": "listen:x", "status_code": 200}
        )
        assert r.status_code == 404


async def _next_delivery(acme, webhook_id: str) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    """Open the stream, read the first delivery, and close the stream unreported."""
    async with acme.stream("GET", f"/v1/webhooks/{webhook_id}/stream", timeout=15) as r:
        assert r.status_code == 200
        kind = ""
        async for line in r.aiter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:") and kind == "delivery":
                return kind, json.loads(line[5:])
    raise AssertionError("the stream ended")


async def test_a_closed_stream_gives_back_what_it_held_at_once(hookline) -> None:  # type: ignore[no-untyped-def]
    acme = await hookline.new_account()
    hook = (await acme.post("/v1/webhooks", json={"mode": "listen"})).json()
    ev = (await acme.post("/v1/events", json={"type": "a", "data": {"n": 1}})).json()
    loop = asyncio.get_running_loop()
    _, first = await _next_delivery(acme, hook["webhook_id"])
    assert first["event_id"] == ev["event_id"]
    started = loop.time()
    # Unreported, and the lease (10 s) is far off: the next stream gets it at once.
    _, again = await _next_delivery(acme, hook["webhook_id"])
    assert again["delivery_id"] == first["delivery_id"]
    assert loop.time() - started < 5
    assert again["session"] != first["session"]
    # The first session's report is refused: it no longer holds the delivery.
    late = {"session": first["session"], "status_code": 200}
    r = await acme.post(f"/v1/deliveries/{first['delivery_id']}/report", json=late)
    assert r.status_code == 409
    assert r.json()["code"] == "lease_lost"
