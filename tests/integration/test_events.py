"""Publishing: batches, bad input, limits, health and metrics."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import event as sa_event

from hookline.domain.models import Message, Published
from hookline.store.messages import StaleCatalog
from tests.support.receiver import Receiver
from tests.support.server import ADMIN_KEY, Running


async def test_batch_publish_is_one_transaction(hookline: Running, receiver: Receiver) -> None:
    acme = await hookline.new_account()
    await acme.post("/v1/webhooks", json={"callback_url": receiver.url, "events": ["a.*"]})
    events = [{"type": "a.x", "data": {"i": i}} for i in range(20)] + [{"type": "b", "data": {}}]
    r = await acme.post("/v1/events/batch", json={"events": events})
    assert r.status_code == 202, r.text
    out = r.json()["data"]
    assert [e["deliveries"] for e in out] == [1] * 20 + [0]
    await receiver.wait_for(20)
    # One bad event refuses the whole batch: nothing is stored.
    bad = [{"type": "a.ok", "data": {}}, {"type": "not valid!", "data": {}}]
    r = await acme.post("/v1/events/batch", json={"events": bad})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_event_type"
    assert "events[1]" in r.json()["error"]
    assert len((await acme.get("/v1/events", params={"limit": 250})).json()["data"]) == 21
    await acme.aclose()


async def test_batch_idempotency_within_and_across_batches(hookline: Running) -> None:
    acme = await hookline.new_account()
    first = (await acme.post("/v1/events", json={"type": "a", "idempotency_key": "k1"})).json()
    r = await acme.post(
        "/v1/events/batch",
        json={
            "events": [
                {"type": "a", "idempotency_key": "k1"},
                {"type": "a", "idempotency_key": "k2"},
                {"type": "a", "idempotency_key": "k2"},
            ]
        },
    )
    got = r.json()["data"]
    assert got[0]["event_id"] == first["event_id"]
    assert got[0]["duplicate"] is True
    assert got[1]["duplicate"] is False
    assert got[2] == got[1] | {"duplicate": True}
    await acme.aclose()


async def test_batch_limits(hookline: Running) -> None:
    acme = await hookline.new_account()
    r = await acme.post("/v1/events/batch", json={"events": []})
    assert r.status_code == 422
    r = await acme.post("/v1/events/batch", json={"events": [{"type": "a"}] * 501})
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"
    await acme.aclose()


async def test_bad_requests_get_clear_json_errors(hookline: Running) -> None:
    acme = await hookline.new_account()
    r = await acme.post(
        "/v1/events", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json() == {"error": "the body is not valid JSON", "code": "invalid_json"}
    r = await acme.post("/v1/events", json={"type": 5, "data": {}})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_error"
    assert body["details"][0]["loc"] == ["body", "type"]
    r = await acme.post("/v1/events", json={"data": {}})
    assert r.status_code == 422
    r = await acme.post("/v1/events", json={"type": "a", "data": {}, "extra": True})
    assert r.status_code == 422
    r = await acme.post("/v1/events", json={"type": "a b"})
    assert r.json()["code"] == "invalid_event_type"
    r = await acme.get("/v1/webhooks", params={"limit": 0})
    assert r.status_code == 422
    assert "Traceback" not in r.text
    await acme.aclose()


async def test_oversized_body_is_413(make_hookline) -> None:  # type: ignore[no-untyped-def]
    running = await make_hookline(max_body_bytes=2048)
    acme = await running.new_account()
    big = {"type": "a", "data": {"blob": "x" * 4096}}
    r = await acme.post("/v1/events", json=big)
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(4):
            yield b" " * 1024  # no Content-Length: chunked, counted as it arrives

    r = await acme.post(
        "/v1/events", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert (await acme.post("/v1/events", json={"type": "a", "data": {}})).status_code == 202
    await acme.aclose()


async def test_health_and_metrics(hookline: Running, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=hookline.url) as anon:
        r = await anon.get("/health")
        assert r.status_code == 200
        assert r.json()["status"] == "ok"
        acme = await hookline.new_account()
        await acme.post("/v1/webhooks", json={"callback_url": receiver.url})
        await acme.post("/v1/events", json={"type": "a", "data": {}})
        await receiver.wait_for(1)
        text = ""
        for _ in range(50):
            text = (await anon.get("/metrics")).text
            if 'hookline_attempts_total{error="",outcome="success"} 1.0' in text:
                break
            await asyncio.sleep(0.05)
        assert "hookline_events_published_total 1.0" in text
        assert 'hookline_attempts_total{error="",outcome="success"} 1.0' in text
        await acme.aclose()


JSON_TYPE = {"Content-Type": "application/json"}
ANSWERS = [
    # (who calls, headers, body) -> (status, code, locations of the problems)
    (None, JSON_TYPE, b"[1]", 401, "unauthorized", []),
    ("hk_not_a_key", JSON_TYPE, b"{}", 401, "unauthorized", []),
    ("admin", JSON_TYPE, b'{"type": "a"}', 403, "forbidden", []),
    ("account", JSON_TYPE, b"", 422, "validation_error", [["body"]]),
    ("account", {}, b"", 422, "validation_error", [["body"]]),
    # No content type, or one that is not JSON: the body is not read as JSON.
    ("account", {}, b'{"type": "a"}', 422, "validation_error", [["body"]]),
    (
        "account",
        {"Content-Type": "text/plain"},
        b'{"type": "a"}',
        422,
        "validation_error",
        [["body"]],
    ),
    ("account", {"Content-Type": "application/vnd.acme+json"}, b'{"type": "a"}', 202, None, []),
    ("account", JSON_TYPE, b"[1, 2]", 422, "validation_error", [["body"]]),
    ("account", JSON_TYPE, b'"a"', 422, "validation_error", [["body"]]),
    ("account", JSON_TYPE, b"null", 422, "validation_error", [["body"]]),
    ("account", JSON_TYPE, b'{"type": "a", "zzz": 1}', 422, "validation_error", [["body", "zzz"]]),
    ("account", JSON_TYPE, b'{"type": ["a"]}', 422, "validation_error", [["body", "type"]]),
    (
        "account",
        JSON_TYPE,
        b'{"type": "", "idempotency_key": ""}',
        422,
        "validation_error",
        [["body", "type"], ["body", "idempotency_key"]],
    ),
    (
        "account",
        JSON_TYPE,
        b'{"type": "a", "deliver_at": 5}',
        422,
        "validation_error",
        [["body", "deliver_at"]],
    ),
    (
        "account",
        JSON_TYPE,
        b'{"type": "a", "application": "app_x"}',
        404,
        "application_not_found",
        [],
    ),
    (
        "account",
        JSON_TYPE | {"Idempotency-Key": "k" * 256},
        b"{}",
        422,
        "invalid_idempotency_key",
        [],
    ),
]


async def test_publish_answers_the_caller_first_then_the_body(hookline: Running) -> None:
    """Each bad single publish gets its own answer, the caller judged before the body:
    no key or a wrong one is 401 whatever the body, the admin key 403; then the body,
    read as JSON only when its content type says JSON, with every problem located."""
    r = await hookline.admin.post("/v1/accounts", json={"name": "acme"})
    keys = {"account": r.json()["api_key"]["key"], "admin": ADMIN_KEY}
    async with httpx.AsyncClient(base_url=hookline.url) as client:
        for who, headers, body, status, code, locations in ANSWERS:
            sent = dict(headers)
            if who is not None:
                sent["Authorization"] = f"Bearer {keys.get(who, who)}"
            r = await client.post("/v1/events", content=body, headers=sent)
            case = (who, headers, body)
            assert r.status_code == status, (case, r.text)
            answer = r.json()
            assert answer.get("code") == code, (case, answer)
            assert [d["loc"] for d in answer.get("details", [])] == locations, (case, answer)
        # The header's key makes the publish idempotent, as the body's does.
        sent = {"Authorization": f"Bearer {keys['account']}", "Idempotency-Key": "k1"}
        first = await client.post("/v1/events", json={"type": "a"}, headers=sent)
        again = await client.post("/v1/events", json={"type": "a"}, headers=sent)
        assert first.status_code == again.status_code == 202
        assert again.json()["event_id"] == first.json()["event_id"]


async def test_publishes_queued_together_are_written_with_one_insert_per_table(
    hookline: Running, receiver: Receiver
) -> None:
    """Publishes waiting while a transaction runs are written by the next one with one
    INSERT per table, not one per publish; a key repeated among them makes one event."""
    made = (await hookline.admin.post("/v1/accounts", json={"name": "acme"})).json()
    account_id = made["account_id"]
    acme = hookline.client(made["api_key"]["key"])
    await acme.post("/v1/webhooks", json={"callback_url": receiver.url})
    events = hookline.system.events
    await events.publish(account_id, "g.x", b"{}", None)  # the caches, warmed
    await receiver.wait_for(1)
    inserts: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        table = statement.split()[2] if statement.startswith("INSERT INTO ") else ""
        if table in ("messages", "deliveries", "idempotency_keys"):
            inserts[table] += 1

    engine = hookline.system.db.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        keys = [f"k{i}" for i in range(8)] + ["same", "same"]
        published = await asyncio.gather(
            *(events.publish(account_id, "g.x", b'{"n": %d}' % i, k) for i, k in enumerate(keys))
        )
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert inserts == {"messages": 1, "deliveries": 1, "idempotency_keys": 1}, inserts
    assert [p.created for p in published] == [True] * 9 + [False]
    assert published[9].message.id == published[8].message.id
    assert published[9].deliveries == 1
    got = await receiver.wait_for(10)
    assert sorted(orjson.loads(r.body)["data"].get("n", -1) for r in got) == [-1, *range(9)]
    assert await receiver.quiet(0.3) == 0
    listed = (await acme.get("/v1/events", params={"limit": 250})).json()["data"]
    assert len(listed) == 10


async def test_a_stale_catalog_in_a_group_fails_only_its_own_publish(hookline: Running) -> None:
    """The catalog versions a publish was checked against are verified for the whole
    group at once; one that no longer holds fails that publish alone."""
    made = (await hookline.admin.post("/v1/accounts", json={"name": "acme"})).json()
    account_id = made["account_id"]
    messages = hookline.system.events.messages
    now = datetime.now(UTC)

    def publish(n: int, versions: dict[str, int | None]) -> Awaitable[list[Published]]:
        message = Message(
            id=f"msg_stale{n}",
            account_id=account_id,
            app_id=hookline.system.events._default_app.get(account_id) or "",
            event_type="s.x",
            payload="{}",
            idempotency_key=None,
            created_at=now,
        )
        return messages.publish(
            [message],
            select_endpoints=lambda _m, _eps: [],
            new_delivery_id=lambda: "dlv_unused",
            idempotency_expires_at=now + timedelta(hours=1),
            type_versions=versions,
        )

    await hookline.system.events.publish(account_id, "s.warm", b"{}", None)  # its app
    answers = await asyncio.gather(
        publish(1, {"s.x": None}),
        publish(2, {"s.x": 3}),  # checked against a version the catalog never had
        publish(3, {"s.x": None}),
        return_exceptions=True,
    )
    first, stale, third = answers
    assert isinstance(stale, StaleCatalog), answers
    assert not isinstance(first, BaseException)
    assert not isinstance(third, BaseException)
    assert [first[0].message.id, third[0].message.id] == ["msg_stale1", "msg_stale3"]
    assert await messages.get(account_id, "msg_stale2") is None
    assert await messages.get(account_id, "msg_stale3") is not None
