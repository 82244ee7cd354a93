"""Test events and attempt inspection: the exact request each attempt sent, replayable
with curl against a receiver that verifies the signature."""

from __future__ import annotations

import asyncio
import base64
import shutil
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from hookline.store.tables import request_bodies
from tests.support.receiver import Received, Receiver, Reply
from tests.support.server import Running, settled


async def _hook(client, url: str, **extra):  # type: ignore[no-untyped-def]
    r = await client.post("/v1/webhooks", json={"callback_url": url, **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def test_test_event_goes_to_that_webhook_only(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    target, bystander = await make_receiver(), await make_receiver()
    acme = await hookline.new_account()
    hook = await _hook(acme, target.url, events=["invoice.*"])
    await _hook(acme, bystander.url, events=["*", "hookline.*"])
    r = await acme.post(f"/v1/webhooks/{hook['webhook_id']}/test")
    assert r.status_code == 202, r.text
    sent = r.json()
    assert sent["type"] == "hookline.test"
    (got,) = await target.wait_for(1)
    body = Webhook(hook["secret"]).verify(got.body, got.headers)
    assert body["type"] == "hookline.test"
    assert body["id"] == sent["event_id"]
    assert "message" in body["data"]
    delivery = (await acme.get(f"/v1/deliveries/{sent['delivery_id']}")).json()
    assert delivery["test"] is True
    # With a type and data of the caller's choosing.
    r = await acme.post(
        f"/v1/webhooks/{hook['webhook_id']}/test",
        json={"type": "invoice.paid", "data": {"amount": 5}},
    )
    got = await target.wait_for(2)
    body = orjson.loads(got[1].body)
    assert (body["type"], body["data"]) == ("invoice.paid", {"amount": 5})
    assert await bystander.quiet(0.3) == 0
    log = (await acme.get(f"/v1/webhooks/{hook['webhook_id']}/deliveries")).json()["data"]
    assert [d["test"] for d in log] == [True, True]
    # With only a type: the catalog's example of that type is sent.
    r = await acme.post(
        "/v1/event-types",
        json={"name": "invoice.voided", "example": {"invoice": "in_1", "reason": "dup"}},
    )
    assert r.status_code == 201, r.text
    r = await acme.post(f"/v1/webhooks/{hook['webhook_id']}/test", json={"type": "invoice.voided"})
    assert r.status_code == 202, r.text
    got = await target.wait_for(3)
    body = orjson.loads(got[2].body)
    assert (body["type"], body["data"]) == ("invoice.voided", {"invoice": "in_1", "reason": "dup"})
    bad = await acme.post(f"/v1/webhooks/{hook['webhook_id']}/test", json={"type": "no spaces"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_event_type")
    missing = await acme.post("/v1/webhooks/ep_nope/test")
    assert (missing.status_code, missing.json()["code"]) == (404, "webhook_not_found")
    await acme.aclose()


async def test_attempt_keeps_the_exact_request_and_response(
    hookline: Running, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    rx = await make_receiver(
        lambda _r, n: Reply(503, "later", headers={"X-Trace": "t1"}) if n == 0 else Reply(200)
    )
    acme = await hookline.new_account()
    hook = await _hook(
        acme,
        rx.url + "/in?src=hl",
        retry_policy={"schedule": [0.05]},
        headers={"X-Api-Key": "s3cr3t-value", "X-Tenant": "blue"},
        secret_headers=["X-Api-Key"],
    )
    assert hook["headers"] == {"X-Api-Key": "********", "X-Tenant": "blue"}
    data = {"π": "ü", "n": 1.50, "nested": [1, {"a": None}]}
    ev = (await acme.post("/v1/events", json={"type": "a.b", "data": data})).json()
    got = await rx.wait_for(2)
    (delivery,) = (await settled(acme, ev["event_id"]))["deliveries"]
    first, second = delivery["attempts"]
    for summary, received in zip((first, second), got, strict=True):
        a = (await acme.get(f"/v1/attempts/{summary['attempt_id']}")).json()
        req = a["request"]
        assert req["method"] == "POST"
        assert req["url"] == rx.url + "/in?src=hl"
        # The body byte for byte, and every header the receiver saw, with the same value,
        # but the secret custom header masked.
        assert base64.b64decode(req["body_base64"]) == received.body
        assert req["body"].encode() == received.body
        sent = {k.lower(): v for k, v in req["headers"]}
        assert sent["x-api-key"] == "********"
        assert received.headers["x-api-key"] == "s3cr3t-value"
        for name, value in received.headers.items():
            if name != "x-api-key":
                assert sent[name] == value, name
        assert set(sent) == set(received.headers)
    a = (await acme.get(f"/v1/attempts/{first['attempt_id']}")).json()
    assert a["response"]["status_code"] == 503
    assert a["response"]["body"] == "later"
    assert ["X-Trace", "t1"] in a["response"]["headers"]
    assert a["delivery_id"] == delivery["delivery_id"]
    # Both attempts sent identical bytes: the body is stored once.
    assert got[0].body == got[1].body
    async with hookline.system.db.read() as conn:
        count = sa.select(sa.func.count()).select_from(request_bodies)
        assert (await conn.execute(count)).scalar_one() == 1
    other = await hookline.new_account("other")
    r = await other.get(f"/v1/attempts/{first['attempt_id']}")
    assert (r.status_code, r.json()["code"]) == (404, "attempt_not_found")
    await acme.aclose()


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
async def test_a_recorded_request_replays_with_curl(
    hookline: Running, make_receiver, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    acme = await hookline.new_account()
    rx = await make_receiver()
    hook = await _hook(acme, rx.url + "/hooks")
    verifier = Webhook(hook["secret"])

    def verify(r: Received, _n: int) -> Reply:
        try:
            verifier.verify(r.body, r.headers)
        except Exception:
            return Reply(401, "bad signature")
        return Reply(204, "")

    checker = await make_receiver(verify)
    sent = (await acme.post(f"/v1/webhooks/{hook['webhook_id']}/test")).json()
    await rx.wait_for(1)
    (delivery,) = (await settled(acme, sent["event_id"]))["deliveries"]
    attempt = (await acme.get(f"/v1/attempts/{delivery['attempts'][0]['attempt_id']}")).json()
    req = attempt["request"]
    body_file = tmp_path / "body.json"
    body_file.write_bytes(base64.b64decode(req["body_base64"]))
    url = req["url"].replace(rx.url, checker.url)
    command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", req["method"], url]
    for name, value in req["headers"]:
        if name.lower() not in ("host", "content-length"):
            command += ["-H", f"{name}: {value}"]
    command += ["--data-binary", f"@{body_file}"]
    curl = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(curl.communicate(), 10)
    assert out.decode() == "204"
    (replayed,) = await checker.wait_for(1)
    assert replayed.body == body_file.read_bytes()
    # The same request with one byte changed is refused by the same receiver.
    body_file.write_bytes(body_file.read_bytes().replace(b"}", b" }", 1))
    curl = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(curl.communicate(), 10)
    assert out.decode() == "401"
    await acme.aclose()


async def test_secret_headers_must_be_custom_headers(hookline: Running, receiver: Receiver) -> None:
    acme = await hookline.new_account()
    r = await acme.post(
        "/v1/webhooks",
        json={"callback_url": receiver.url, "headers": {"A": "1"}, "secret_headers": ["B"]},
    )
    assert (r.status_code, r.json()["code"]) == (422, "invalid_headers")
    hook = await _hook(acme, receiver.url, headers={"A": "1", "B": "2"})
    hid = hook["webhook_id"]
    r = await acme.patch(f"/v1/webhooks/{hid}", json={"secret_headers": ["b"]})
    assert r.json()["headers"] == {"A": "1", "B": "********"}
    # Dropping the header drops its secrecy with it.
    r = await acme.patch(f"/v1/webhooks/{hid}", json={"headers": {"A": "1"}})
    assert (r.json()["headers"], r.json()["secret_headers"]) == ({"A": "1"}, [])
    await acme.aclose()
