"""A call's event stream (server-sent events) with resume, and the choice and coalescing
of its webhooks. Real Hookline, a real callback-mode upstream, a real receiver."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from tests.integration.gateway.conftest import MakeParty
from tests.support.gateway import Party, list_api, until_final
from tests.support.receiver import Receiver
from tests.support.server import Running
from tests.support.upstream import Got, Upstream


async def accepted(_got: Got, _n: int) -> tuple[int, Any, dict[str, str]]:
    return 202, {"accepted": True}, {}


async def read_events(
    consumer: Party, call_id: str, count: int | None, last_event_id: str | None = None
) -> list[dict[str, Any]]:
    """Read SSE frames until ``count`` events came (then drop the connection) or the
    stream ends by itself (``count`` None)."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    events: list[dict[str, Any]] = []
    async with (
        asyncio.timeout(15),
        consumer.client.stream("GET", f"/v1/calls/{call_id}/events", headers=headers) as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        frame: dict[str, Any] = {}
        async for line in r.aiter_lines():
            if line.startswith(("id:", "event:", "data:")):
                key, _, value = line.partition(":")
                frame[key] = value.strip()
            elif line == "" and "data" in frame:
                events.append(
                    {"id": frame["id"], "event": frame["event"]} | orjson.loads(frame["data"])
                )
                frame = {}
                if count is not None and len(events) == count:
                    break
    return events


async def test_event_stream_resumes_after_a_dropped_connection_without_gaps(
    hookline: Running, make_party: MakeParty
) -> None:
    upstream = await Upstream(accepted).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer", credit=100)
        api = await list_api(owner, upstream.url, completion="callback", price=5)
        call_id = (await consumer.client.post("/v1/calls", json={"api_id": api["api_id"]})).json()[
            "request_id"
        ]
        (got,) = await upstream.wait_for(1)
        callback = got.headers["hookline-callback-url"]
        async with httpx.AsyncClient() as up:
            r = await up.post(callback, json={"progress": {"percent": 10}})
            assert r.status_code == 202

            first = await read_events(consumer, call_id, 3)  # then the client goes away
            assert [(e["event"], e["status"]) for e in first] == [
                ("status", "queued"),
                ("status", "running"),
                ("progress", "running"),
            ]
            assert first[2]["progress"] == {"percent": 10}

            for percent in (50, 90):
                await up.post(callback, json={"progress": {"percent": percent}})
            await up.post(callback, json={"status_code": 200, "body": {"text": "done"}})

        rest = await read_events(consumer, call_id, None, last_event_id=first[-1]["id"])
        assert [e["seq"] for e in first + rest] == [1, 2, 3, 4, 5, 6]
        assert [e.get("progress") for e in rest[:2]] == [{"percent": 50}, {"percent": 90}]
        end = rest[-1]
        assert (end["event"], end["status"]) == ("end", "succeeded")
        assert end["result"] == {"status_code": 200, "body": {"text": "done"}}
        assert end["cost"] == 5

        # An ended call's stream replays everything and closes.
        assert len(await read_events(consumer, call_id, None)) == 6
        bad = await consumer.client.get(
            f"/v1/calls/{call_id}/events", headers={"Last-Event-ID": "x"}
        )
        assert bad.status_code == 422
        huge = await consumer.client.get(
            f"/v1/calls/{call_id}/events", headers={"Last-Event-ID": "9" * 19}
        )
        assert huge.status_code == 422
        assert huge.json()["code"] == "invalid_event_id"
        missing = await consumer.client.get("/v1/calls/call_nope/events")
        assert missing.status_code == 404
    finally:
        await upstream.stop()


async def test_progress_webhooks_are_coalesced_and_start_and_completed_always_sent(
    make_hookline: Any, receiver: Receiver, make_party: MakeParty
) -> None:
    hookline: Running = await make_hookline(call_progress_interval=60)
    upstream = await Upstream(accepted).start()
    try:
        owner = await make_party(hookline, "owner")
        consumer = await make_party(hookline, "consumer")
        api = await list_api(owner, upstream.url, completion="callback")
        r = await consumer.client.post(
            "/v1/calls",
            json={
                "api_id": api["api_id"],
                "webhook_url": receiver.url + "/hooks",
                "webhook_events": ["start", "progress", "completed"],
            },
        )
        assert r.status_code == 202, r.text
        assert r.json()["webhook_events"] == ["start", "progress", "completed"]
        call_id = r.json()["request_id"]
        (got,) = await upstream.wait_for(1)
        async with httpx.AsyncClient() as up:
            for percent in (10, 20, 30, 40):
                await up.post(got.headers["hookline-callback-url"], json={"progress": percent})
            await up.post(got.headers["hookline-callback-url"], json={"body": "ok"})
        done = await until_final(consumer, call_id)
        assert done["progress"] == 40  # the latest is always kept

        hooks = await receiver.wait_for(3)
        assert await receiver.quiet(0.5) == 0
        bodies = sorted((orjson.loads(h.body) for h in hooks), key=lambda b: b["created_at"])
        assert [b["type"] for b in bodies] == ["call.started", "call.progress", "call.completed"]
        assert bodies[1]["data"]["progress"] == 10  # one per interval: the first one

        bad = await consumer.client.post(
            "/v1/calls", json={"api_id": api["api_id"], "webhook_events": ["finished"]}
        )
        assert bad.status_code == 422
        assert bad.json()["code"] == "invalid_webhook_events"
    finally:
        await upstream.stop()
