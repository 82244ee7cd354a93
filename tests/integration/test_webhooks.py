"""Registering and managing webhooks over real HTTP."""

from __future__ import annotations

import base64

import httpx
import orjson

from tests.support.receiver import Receiver
from tests.support.server import Running


async def test_create_generates_secret_shown_at_creation(hookline: Running) -> None:
    acme = await hookline.new_account()
    r = await acme.post(
        "/v1/webhooks", json={"callback_url": "http://127.0.0.1:9/hook", "description": "d"}
    )
    assert r.status_code == 201
    hook = r.json()
    assert hook["webhook_id"].startswith("ep_")
    assert hook["active"] is True
    assert hook["events"] == ["*"]
    secret = hook["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    # Not in reads or lists; only through the secret route.
    got = (await acme.get(f"/v1/webhooks/{hook['webhook_id']}")).json()
    assert "secret" not in got
    listed = (await acme.get("/v1/webhooks")).json()["data"]
    assert all("secret" not in h for h in listed)
    s = (await acme.get(f"/v1/webhooks/{hook['webhook_id']}/secret")).json()
    assert s["secret"] == secret
    await acme.aclose()


async def test_list_is_paginated_with_a_cursor(hookline: Running) -> None:
    acme = await hookline.new_account()
    ids = []
    for i in range(5):
        r = await acme.post("/v1/webhooks", json={"callback_url": f"http://127.0.0.1:9/{i}"})
        ids.append(r.json()["webhook_id"])
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await acme.get("/v1/webhooks", params=params)).json()
        seen += [h["webhook_id"] for h in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    await acme.aclose()


async def test_patch_updates_and_disables(hookline: Running, receiver: Receiver) -> None:
    acme = await hookline.new_account()
    hook = (await acme.post("/v1/webhooks", json={"callback_url": "http://127.0.0.1:9/x"})).json()
    hid = hook["webhook_id"]
    r = await acme.patch(
        f"/v1/webhooks/{hid}",
        json={
            "callback_url": receiver.url + "/new",
            "events": ["task.*"],
            "retry_policy": {"schedule": [1, 2]},
            "description": "new",
        },
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["callback_url"] == receiver.url + "/new"
    assert got["events"] == ["task.*"]
    assert got["retry_policy"] == {"schedule": [1.0, 2.0]}
    assert got["description"] == "new"

    r = await acme.patch(f"/v1/webhooks/{hid}", json={"active": False})
    assert r.json()["active"] is False
    assert r.json()["disabled_reason"] == "manual"
    # Events published while disabled are held for it, not sent (even once re-enabled).
    published = await acme.post("/v1/events", json={"type": "task.done", "data": {}})
    assert published.json()["deliveries"] == 0
    assert published.json()["held"] == 1
    assert await receiver.quiet(0.3) == 0

    r = await acme.patch(f"/v1/webhooks/{hid}", json={"active": True})
    assert r.json()["active"] is True
    assert r.json()["disabled_reason"] is None
    second = await acme.post("/v1/events", json={"type": "task.done", "data": {}})
    got_requests = await receiver.wait_for(1)
    assert got_requests[0].path == "/new"
    assert await receiver.quiet(0.3) == 0
    assert orjson.loads(got_requests[0].body)["id"] == second.json()["event_id"]
    await acme.aclose()


async def test_queued_deliveries_pause_while_disabled(hookline: Running, make_receiver) -> None:  # type: ignore[no-untyped-def]
    from tests.support.receiver import Reply

    rx = await make_receiver(lambda _r, n: Reply(500) if n == 0 else Reply(200))
    acme = await hookline.new_account()
    hid = (
        await acme.post(
            "/v1/webhooks", json={"callback_url": rx.url, "retry_policy": {"schedule": [0.5]}}
        )
    ).json()["webhook_id"]
    await acme.post("/v1/events", json={"type": "a", "data": {}})
    await rx.wait_for(1)
    await acme.patch(f"/v1/webhooks/{hid}", json={"active": False})
    assert await rx.quiet(1.0) == 0  # the retry came due while disabled and waited
    await acme.patch(f"/v1/webhooks/{hid}", json={"active": True})
    await rx.wait_for(2)
    await acme.aclose()


async def test_delete_is_soft(hookline: Running, receiver: Receiver) -> None:
    acme = await hookline.new_account()
    hid = (await acme.post("/v1/webhooks", json={"callback_url": receiver.url})).json()[
        "webhook_id"
    ]
    await acme.post("/v1/events", json={"type": "a", "data": {}})
    await receiver.wait_for(1)
    r = await acme.delete(f"/v1/webhooks/{hid}")
    assert r.status_code == 200
    assert r.json()["status"] == "deleted"
    assert r.json()["active"] is False
    # History stays readable; nothing more is delivered.
    assert (await acme.get(f"/v1/webhooks/{hid}")).json()["status"] == "deleted"
    deliveries = (await acme.get(f"/v1/webhooks/{hid}/deliveries")).json()["data"]
    assert len(deliveries) == 1
    published = (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()
    assert published["deliveries"] == 0
    assert await receiver.quiet(0.3) == 0
    assert (await acme.get("/v1/webhooks")).json()["data"] == []
    listed = (await acme.get("/v1/webhooks", params={"include_deleted": "true"})).json()
    assert [h["webhook_id"] for h in listed["data"]] == [hid]
    r = await acme.patch(f"/v1/webhooks/{hid}", json={"active": True})
    assert r.status_code == 409
    assert r.json()["code"] == "webhook_deleted"
    await acme.aclose()


async def test_missing_webhook_is_a_clear_404(hookline: Running) -> None:
    acme = await hookline.new_account()
    for method, path in [
        ("GET", "/v1/webhooks/ep_missing"),
        ("PATCH", "/v1/webhooks/ep_missing"),
        ("DELETE", "/v1/webhooks/ep_missing"),
        ("GET", "/v1/webhooks/ep_missing/secret"),
        ("GET", "/v1/webhooks/ep_missing/deliveries"),
    ]:
        r = await acme.request(method, path, json={} if method == "PATCH" else None)
        assert r.status_code == 404, (method, path)
        assert r.json() == {"error": "webhook not found", "code": "webhook_not_found"}
    await acme.aclose()


async def test_bad_webhook_input(hookline: Running) -> None:
    acme = await hookline.new_account()
    cases = [
        ({"callback_url": "ftp://example.com/x"}, 422, "invalid_url"),
        ({"callback_url": "not a url"}, 422, "invalid_url"),
        ({"callback_url": "http://user:pw@example.com/"}, 422, "invalid_url"),
        ({"callback_url": "http://10.0.0.1/x"}, 422, "url_not_allowed"),
        ({"callback_url": "http://169.254.169.254/latest"}, 422, "url_not_allowed"),
        ({"callback_url": "https://example.com", "events": ["a..b"]}, 422, "invalid_events"),
        (
            {"callback_url": "https://example.com", "retry_policy": {"schedule": "x"}},
            422,
            "invalid_retry_policy",
        ),
        (
            {
                "callback_url": "https://example.com",
                "retry_policy": {"min_delay": 10, "max_delay": 1},
            },
            422,
            "invalid_retry_policy",
        ),
        ({"callback_url": "https://example.com", "secret": "short"}, 422, "invalid_secret"),
        ({"callback_url": "https://example.com", "headers": {"Host": "x"}}, 422, "invalid_headers"),
        (
            {"callback_url": "https://example.com", "headers": {"X-A": "v\n"}},
            422,
            "invalid_headers",
        ),
        (
            {"callback_url": "https://example.com", "headers": {"X-A": "a\r\nX-Evil: 1"}},
            422,
            "invalid_headers",
        ),
        (
            {"callback_url": "https://example.com", "signature": {"scheme": "md5"}},
            422,
            "validation_error",
        ),
        ({"callback_url": "https://example.com", "surprise": 1}, 422, "validation_error"),
        ({"callback_url": 12}, 422, "validation_error"),
        ({}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        r = await acme.post("/v1/webhooks", json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["code"] == code, (body, r.text)
        assert "Traceback" not in r.text
    await acme.aclose()


async def test_loopback_refused_without_allow_list(make_hookline) -> None:  # type: ignore[no-untyped-def]
    running = await make_hookline(egress_allow="")
    acme = await running.new_account()
    r = await acme.post("/v1/webhooks", json={"callback_url": "http://127.0.0.1:8080/"})
    assert r.status_code == 422
    assert r.json()["code"] == "url_not_allowed"
    r = await acme.post("/v1/webhooks", json={"callback_url": "http://localhost:8080/"})
    assert r.json()["code"] == "url_not_allowed"
    await acme.aclose()


async def test_secret_rotation_signs_with_both(hookline: Running, receiver: Receiver) -> None:
    from standardwebhooks import Webhook

    acme = await hookline.new_account()
    hook = (await acme.post("/v1/webhooks", json={"callback_url": receiver.url})).json()
    old = hook["secret"]
    r = await acme.post(f"/v1/webhooks/{hook['webhook_id']}/secret/rotate")
    new = r.json()["secret"]
    assert new != old
    await acme.post("/v1/events", json={"type": "a", "data": {"n": 1}})
    (got,) = await receiver.wait_for(1)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(got.body, got.headers)
    await acme.aclose()


async def test_custom_headers_are_sent(hookline: Running, receiver: Receiver) -> None:
    acme = await hookline.new_account()
    await acme.post(
        "/v1/webhooks",
        json={"callback_url": receiver.url, "headers": {"X-Tenant": "t-1"}},
    )
    await acme.post("/v1/events", json={"type": "a", "data": {}})
    (got,) = await receiver.wait_for(1)
    assert got.headers["x-tenant"] == "t-1"
    await acme.aclose()


async def test_unknown_route_and_method(hookline: Running) -> None:
    async with httpx.AsyncClient(base_url=hookline.url) as anon:
        r = await anon.get("/v1/nothing-here")
        assert r.status_code == 404
        assert r.json()["code"] == "route_not_found"
        r = await anon.put("/health")
        assert r.status_code == 405
        assert r.json()["code"] == "method_not_allowed"
