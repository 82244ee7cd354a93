"""Deliveries end to end: real Hookline, real receivers, real SQLite."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac

import orjson
from standardwebhooks import Webhook

from tests.support.receiver import Receiver, Reply
from tests.support.server import Running, settled


async def _hook(client, url: str, **extra):  # type: ignore[no-untyped-def]
    r = await client.post("/v1/webhooks", json={"callback_url": url, **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def test_standard_webhooks_signature_and_envelope(
    hookline: Running, receiver: Receiver
) -> None:
    acme = await hookline.new_account()
    hook = await _hook(acme, receiver.url + "/in")
    ev = (
        await acme.post(
            "/v1/events",
            json={
                "type": "invoice.paid",
                "data": {"amount": 42, "π": "ü"},
                "idempotency_key": "k-1",
            },
        )
    ).json()
    (got,) = await receiver.wait_for(1)
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == ev["event_id"]
    # The standardwebhooks package verifies it...
    payload = Webhook(hook["secret"]).verify(got.body, got.headers)
    assert payload == {
        "id": ev["event_id"],
        "object": "event",
        "type": "invoice.paid",
        "api_version": payload["api_version"],
        "webhook_id": hook["webhook_id"],
        "idempotency_key": "k-1",
        "created_at": payload["created_at"],
        "data": {"amount": 42, "π": "ü"},
    }
    # ...and so do a few lines of plain hmac.
    key = base64.b64decode(hook["secret"].removeprefix("whsec_"))
    signed = f"{got.headers['webhook-id']}.{got.headers['webhook-timestamp']}.".encode() + got.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert f"v1,{expected}" in got.headers["webhook-signature"].split(" ")
    await acme.aclose()


async def test_sha256_hex_signature(hookline: Running, receiver: Receiver) -> None:
    acme = await hookline.new_account()
    secret = "my-shared-secret-value"
    await _hook(
        acme,
        receiver.url,
        secret=secret,
        signature={"scheme": "sha256-hex", "header": "X-Hub-Signature-256"},
    )
    await acme.post("/v1/events", json={"type": "a", "data": [1, 2]})
    (got,) = await receiver.wait_for(1)
    digest = hmac.new(secret.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-hub-signature-256"] == f"sha256={digest}"
    assert "webhook-signature" not in got.headers
    await acme.aclose()


async def test_event_type_matching(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    acme = await hookline.new_account()
    everything, tasks, exact = [await make_receiver() for _ in range(3)]
    await _hook(acme, everything.url)
    await _hook(acme, tasks.url, events=["task.*"])
    await _hook(acme, exact.url, events=["invoice.paid"])
    counts = {}
    for t in ["task.done", "task.step.done", "taskforce.x", "invoice.paid", "invoice.void"]:
        counts[t] = (await acme.post("/v1/events", json={"type": t, "data": {}})).json()[
            "deliveries"
        ]
    assert counts == {
        "task.done": 2,
        "task.step.done": 2,
        "taskforce.x": 1,
        "invoice.paid": 2,
        "invoice.void": 1,
    }
    await everything.wait_for(5)
    await tasks.wait_for(2)
    await exact.wait_for(1)
    assert {orjson.loads(r.body)["type"] for r in tasks.received} == {"task.done", "task.step.done"}
    await acme.aclose()


async def test_retries_until_success_with_the_same_webhook_id(
    hookline: Running, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    flaky = await make_receiver(lambda _r, n: Reply(500, "boom") if n < 2 else Reply(200))
    acme = await hookline.new_account()
    hook = await _hook(acme, flaky.url, retry_policy={"schedule": [0.1, 0.1, 0.1]})
    ev = (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()
    got = await flaky.wait_for(3)
    assert len({r.headers["webhook-id"] for r in got}) == 1
    assert len({r.body for r in got}) == 1
    detail = await settled(acme, ev["event_id"])
    (delivery,) = detail["deliveries"]
    assert delivery["status"] == "succeeded"
    assert delivery["attempt_count"] == 3
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["attempts"][0]["response_body"] == "boom"
    assert delivery["attempts"][0]["error"] == "http_status"
    assert delivery["webhook_id"] == hook["webhook_id"]
    await acme.aclose()


async def test_exhausted_delivery_fails_and_webhook_records_it(
    hookline: Running, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    down = await make_receiver(lambda _r, _n: Reply(503, "down"))
    acme = await hookline.new_account()
    hook = await _hook(acme, down.url, retry_policy={"schedule": [0.1]})
    ev = (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()
    detail = await settled(acme, ev["event_id"])
    assert detail["deliveries"][0]["status"] == "failed"
    assert detail["deliveries"][0]["attempt_count"] == 2
    assert len(down.received) == 2
    wh = (await acme.get(f"/v1/webhooks/{hook['webhook_id']}")).json()
    assert wh["failure_count"] == 1
    assert wh["last_failure_at"] is not None
    assert wh["active"] is True  # failing for less than disable_after
    failed = (
        await acme.get(f"/v1/webhooks/{hook['webhook_id']}/deliveries", params={"status": "failed"})
    ).json()["data"]
    assert [d["delivery_id"] for d in failed] == [detail["deliveries"][0]["delivery_id"]]
    ok = (
        await acme.get(
            f"/v1/webhooks/{hook['webhook_id']}/deliveries", params={"status": "succeeded"}
        )
    ).json()["data"]
    assert ok == []
    await acme.aclose()


async def test_exponential_policy_is_followed(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    down = await make_receiver(lambda _r, _n: Reply(500))
    acme = await hookline.new_account()
    await _hook(
        acme,
        down.url,
        retry_policy={"min_delay": 0.1, "max_delay": 0.2, "max_attempts": 3},
    )
    ev = (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()
    detail = await settled(acme, ev["event_id"])
    assert detail["deliveries"][0]["attempt_count"] == 3
    gaps = [b.at - a.at for a, b in zip(down.received, down.received[1:], strict=False)]
    assert all(g >= 0.05 for g in gaps), gaps  # jitter keeps it within [min/2.., max]
    await acme.aclose()


async def test_redirect_is_a_failure_and_not_followed(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    target = await make_receiver()
    redirecting = await make_receiver(
        lambda _r, _n: Reply(302, "", headers={"Location": target.url})
    )
    acme = await hookline.new_account()
    await _hook(acme, redirecting.url, retry_policy={"schedule": [0.1]})
    ev = (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()
    detail = await settled(acme, ev["event_id"])
    assert detail["deliveries"][0]["status"] == "failed"
    assert [a["status_code"] for a in detail["deliveries"][0]["attempts"]] == [302, 302]
    assert target.received == []
    await acme.aclose()


async def test_timeout_and_connection_errors(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    running = await make_hookline(delivery_timeout=0.3, lease_seconds=6)
    slow = await make_receiver(lambda _r, _n: Reply(200, delay=1.0))
    acme = await running.new_account()
    await _hook(acme, slow.url, retry_policy={"schedule": []}, events=["slow"])
    closed = await make_receiver()
    closed_url = closed.url
    await closed.stop()
    await _hook(acme, closed_url, retry_policy={"schedule": []}, events=["closed"])
    e1 = (await acme.post("/v1/events", json={"type": "slow", "data": {}})).json()
    e2 = (await acme.post("/v1/events", json={"type": "closed", "data": {}})).json()
    a1 = (await settled(acme, e1["event_id"]))["deliveries"][0]["attempts"][0]
    a2 = (await settled(acme, e2["event_id"]))["deliveries"][0]["attempts"][0]
    assert a1["error"] == "timeout"
    assert a1["status_code"] is None
    assert a2["error"] == "connection_error"
    await acme.aclose()


async def test_gone_disables_the_webhook(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    gone = await make_receiver(lambda _r, _n: Reply(410, "gone"))
    acme = await hookline.new_account()
    hook = await _hook(acme, gone.url, retry_policy={"schedule": [0.1, 0.1]})
    ev = (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()
    detail = await settled(acme, ev["event_id"])
    assert detail["deliveries"][0]["status"] == "failed"
    assert len(gone.received) == 1
    wh = (await acme.get(f"/v1/webhooks/{hook['webhook_id']}")).json()
    assert wh["active"] is False
    assert wh["disabled_reason"] == "gone"
    assert (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()["deliveries"] == 0
    await acme.aclose()


async def test_failing_for_too_long_disables(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    running = await make_hookline(disable_after=0.2)
    down = await make_receiver(lambda _r, _n: Reply(500))
    acme = await running.new_account()
    hook = await _hook(acme, down.url, retry_policy={"schedule": [0.3]})
    ev = (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()
    await settled(acme, ev["event_id"])
    wh = (await acme.get(f"/v1/webhooks/{hook['webhook_id']}")).json()
    assert wh["disabled_reason"] == "failing"
    assert wh["active"] is False
    await acme.aclose()


async def test_retry_after_is_honoured(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    limited = await make_receiver(
        lambda _r, n: Reply(429, headers={"Retry-After": "1"}) if n == 0 else Reply(200)
    )
    acme = await hookline.new_account()
    await _hook(acme, limited.url, retry_policy={"schedule": [0.05]})
    await acme.post("/v1/events", json={"type": "a", "data": {}})
    first, second = await limited.wait_for(2, timeout=5)
    assert second.at - first.at >= 0.95
    await acme.aclose()


async def test_manual_retry_of_a_failed_delivery(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    healthy = {"now": False}
    rx = await make_receiver(lambda _r, _n: Reply(200) if healthy["now"] else Reply(500))
    acme = await hookline.new_account()
    await _hook(acme, rx.url, retry_policy={"schedule": []})
    ev = (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()
    (delivery,) = (await settled(acme, ev["event_id"]))["deliveries"]
    assert delivery["status"] == "failed"
    healthy["now"] = True
    r = await acme.post(f"/v1/deliveries/{delivery['delivery_id']}/retry")
    assert r.status_code == 202
    assert r.json()["status"] == "pending"
    await rx.wait_for(2)
    (delivery,) = (await settled(acme, ev["event_id"]))["deliveries"]
    assert delivery["status"] == "succeeded"
    assert [a["trigger"] for a in delivery["attempts"]] == ["scheduled", "manual"]
    assert rx.received[0].headers["webhook-id"] == rx.received[1].headers["webhook-id"]
    got = (await acme.get(f"/v1/deliveries/{delivery['delivery_id']}")).json()
    assert got["attempt_count"] == 2
    await acme.aclose()


async def test_retry_of_an_unfinished_delivery_conflicts(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    down = await make_receiver(lambda _r, _n: Reply(500))
    acme = await hookline.new_account()
    await _hook(acme, down.url, retry_policy={"schedule": [30]})
    ev = (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()
    await down.wait_for(1)
    detail = (await acme.get(f"/v1/events/{ev['event_id']}")).json()
    did = detail["deliveries"][0]["delivery_id"]
    r = await acme.post(f"/v1/deliveries/{did}/retry")
    assert r.status_code == 409
    assert r.json()["code"] == "delivery_in_progress"
    r = await acme.post("/v1/deliveries/dlv_missing/retry")
    assert r.status_code == 404
    assert r.json()["code"] == "delivery_not_found"
    await acme.aclose()


async def test_idempotency_key_returns_the_first_event(
    hookline: Running, receiver: Receiver
) -> None:
    acme = await hookline.new_account()
    await _hook(acme, receiver.url)
    first = (
        await acme.post(
            "/v1/events", json={"type": "a", "data": {"n": 1}, "idempotency_key": "order-7"}
        )
    ).json()
    again = await acme.post(
        "/v1/events", json={"type": "a", "data": {"n": 2}, "idempotency_key": "order-7"}
    )
    assert again.status_code == 202
    assert again.json()["event_id"] == first["event_id"]
    assert again.json()["duplicate"] is True
    via_header = await acme.post(
        "/v1/events", json={"type": "a", "data": {}}, headers={"Idempotency-Key": "order-7"}
    )
    assert via_header.json()["event_id"] == first["event_id"]
    await receiver.wait_for(1)
    assert await receiver.quiet(0.3) == 0
    assert len((await acme.get("/v1/events")).json()["data"]) == 1
    # Keys belong to an account: another account's same key is a new event.
    other = await hookline.new_account("other")
    theirs = (
        await other.post("/v1/events", json={"type": "a", "data": {}, "idempotency_key": "order-7"})
    ).json()
    assert theirs["event_id"] != first["event_id"]
    await acme.aclose()
    await other.aclose()


async def test_idempotency_key_expires(make_hookline) -> None:  # type: ignore[no-untyped-def]
    running = await make_hookline(idempotency_ttl=0.2)
    acme = await running.new_account()
    first = (await acme.post("/v1/events", json={"type": "a", "idempotency_key": "k"})).json()
    await asyncio.sleep(0.3)
    second = (await acme.post("/v1/events", json={"type": "a", "idempotency_key": "k"})).json()
    assert second["event_id"] != first["event_id"]
    await acme.aclose()


async def test_response_body_is_truncated_to_the_configured_limit(
    make_hookline, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(response_body_limit=4096)
    chatty = await make_receiver(lambda _r, _n: Reply(200, "x" * 10_000))
    acme = await hookline.new_account()
    await _hook(acme, chatty.url)
    ev = (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()
    detail = await settled(acme, ev["event_id"])
    assert len(detail["deliveries"][0]["attempts"][0]["response_body"]) == 4096
    await acme.aclose()


async def test_slow_endpoint_does_not_hold_back_others(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    running = await make_hookline(
        worker_concurrency=8, endpoint_concurrency=16, delivery_timeout=5, lease_seconds=20
    )
    # Slower than the test: it can only ever have as many requests as it has slots.
    slow = await make_receiver(lambda _r, _n: Reply(200, delay=30))
    fast = await make_receiver()
    acme = await running.new_account()
    await _hook(acme, slow.url, events=["slow"])
    await _hook(acme, fast.url, events=["fast"])
    for _ in range(10):
        await acme.post("/v1/events", json={"type": "slow", "data": {}})
    for _ in range(10):
        await acme.post("/v1/events", json={"type": "fast", "data": {}})
    # endpoint_concurrency (16) is more than the worker's 8 slots, yet a receiver that
    # has not answered yet holds its starting share (16 // 8) and no more: the other
    # webhook is sent to at once, not when the slow sends time out.
    await fast.wait_for(10, timeout=4)
    await slow.wait_for(2)
    assert await slow.quiet(0.5) == 0
    assert len(slow.received) == 2
    await acme.aclose()


async def test_a_webhook_earns_its_share_with_answers_and_loses_it_without(  # type: ignore[no-untyped-def]
    make_hookline, make_receiver
) -> None:
    running = await make_hookline(
        worker_concurrency=64, endpoint_concurrency=16, delivery_timeout=1, lease_seconds=20
    )
    live = await make_receiver(lambda _r, _n: Reply(200, delay=0.05))
    dead = await make_receiver(lambda _r, _n: Reply(200, delay=30))
    acme = await running.new_account()
    await _hook(acme, live.url, events=["live"])
    await _hook(acme, dead.url, events=["dead"])
    r = await acme.post("/v1/events/batch", json={"events": [{"type": "live", "data": {}}] * 80})
    assert r.status_code == 202, r.text
    await live.wait_for(80)
    # It started at 2 in flight (16 // 8) and, answering, grew to its whole share.
    assert live.most_in_flight == 16
    r = await acme.post("/v1/events/batch", json={"events": [{"type": "dead", "data": {}}] * 12})
    assert r.status_code == 202, r.text
    # No answer within the 1 s timeout: 2 sends at first, and each that times out
    # halves the share, so one at a time after them, each after a timeout.
    got = await dead.wait_for(4, timeout=8)
    assert got[1].at - got[0].at < 0.5
    assert got[2].at - got[0].at > 0.8
    assert got[3].at - got[2].at > 0.8
    await acme.aclose()


async def test_event_log_lists_and_reads(hookline: Running, receiver: Receiver) -> None:
    acme = await hookline.new_account()
    await _hook(acme, receiver.url)
    ids = [
        (await acme.post("/v1/events", json={"type": t, "data": {"i": i}})).json()["event_id"]
        for i, t in enumerate(["a", "b", "a"])
    ]
    listed = (await acme.get("/v1/events")).json()
    assert [e["event_id"] for e in listed["data"]] == list(reversed(ids))
    only_a = (await acme.get("/v1/events", params={"type": "a"})).json()["data"]
    assert [e["data"]["i"] for e in only_a] == [2, 0]
    r = await acme.get("/v1/events/msg_missing")
    assert r.status_code == 404
    assert r.json()["code"] == "event_not_found"
    await acme.aclose()
