"""The publish lane: ``POST /v1/events`` answered in front of the framework, exactly as
the route answers it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from hookline.api.app import create_app
from hookline.api.guard import InputGuard
from hookline.api.publish_lane import PublishLane, publish_route
from hookline.api.routes import events
from tests.support.receiver import Receiver
from tests.support.server import ADMIN_KEY, Running, serve


@pytest.fixture
async def framework_only(hookline: Running) -> AsyncIterator[str]:
    """The same system served by an application without the lane: every publish goes
    through the framework's route."""
    app = create_app(hookline.system)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not PublishLane]
    url, server, task = await serve(app)
    yield url
    server.should_exit = True
    await task


def _answer(r: httpx.Response) -> dict[str, Any]:
    body = r.json()
    if r.status_code == 202:
        # Ids and times are the event's own; the rest is what either path must say.
        body = {k: v for k, v in body.items() if k not in ("event_id", "created_at")}
    return {
        "status": r.status_code,
        "body": body,
        "content-type": r.headers.get("content-type"),
        "www-authenticate": r.headers.get("www-authenticate"),
    }


async def test_lane_answers_as_the_route_does(
    hookline: Running, framework_only: str, receiver: Receiver
) -> None:
    acme = await hookline.new_account()
    key = acme.headers["authorization"]
    await acme.post("/v1/webhooks", json={"callback_url": receiver.url, "events": ["a.*"]})
    app_id = (await acme.get("/v1/applications")).json()["data"][0]["application_id"]
    cases: list[tuple[dict[str, str], Any]] = [
        ({"authorization": key}, {"type": "a.x", "data": {"n": 1}}),
        ({"authorization": key}, {"type": "b.nobody"}),
        ({"authorization": key}, {"type": "a.x", "application": app_id}),
        ({"authorization": key}, {"type": "a.x", "deliver_at": "2020-01-01T00:00:00Z"}),
        ({}, {"type": "a.x"}),
        ({"authorization": "Bearer hk_not_a_key"}, {"type": "a.x"}),
        ({"authorization": "Basic abc"}, {"type": "a.x"}),
        ({"authorization": f"Bearer {ADMIN_KEY}"}, {"type": "a.x"}),
        # A bad key and a bad body: the key is refused first, as the route refuses it.
        ({"authorization": "Bearer hk_not_a_key"}, {"type": ""}),
        ({"authorization": key}, {"type": ""}),
        ({"authorization": key}, {"type": "a.x", "surplus": 1}),
        ({"authorization": key}, {"data": {}}),
        ({"authorization": key}, ["a.x"]),
        ({"authorization": key}, "a.x"),
        ({"authorization": key}, {"type": "not valid!"}),
        ({"authorization": key}, {"type": "a.x", "application": "app_nowhere"}),
        ({"authorization": key}, {"type": "a.x", "deliver_at": 1700000000}),
        ({"authorization": key}, {"type": "a.x", "deliver_at": "2999-01-01T00:00:00Z"}),
        ({"authorization": key}, {"type": "a.x", "idempotency_key": ""}),
        ({"authorization": key, "idempotency-key": "k" * 256}, {"type": "a.x"}),
    ]
    async with (
        httpx.AsyncClient(base_url=hookline.url) as lane,
        httpx.AsyncClient(base_url=framework_only) as route,
    ):
        for headers, body in cases:
            got = _answer(await lane.post("/v1/events", headers=headers, json=body))
            want = _answer(await route.post("/v1/events", headers=headers, json=body))
            assert got == want, (headers, body)
        # An idempotency key (in the body, or as the header the route also reads) names
        # one event whichever path took it first.
        for named in (
            {"json": {"type": "a.x", "idempotency_key": "same"}},
            {"json": {"type": "a.x"}, "headers": {"authorization": key, "idempotency-key": "hdr"}},
        ):
            request: dict[str, Any] = {"headers": {"authorization": key}} | named
            first = (await lane.post("/v1/events", **request)).json()
            again = (await route.post("/v1/events", **request)).json()
            assert again["event_id"] == first["event_id"]
            third = (await lane.post("/v1/events", **request)).json()
            assert third["event_id"] == first["event_id"]
        # Bodies that are not JSON objects at all stay the guard's and the route's.
        # A body without a content type is no JSON to the route, though the guard
        # parses it to check it.
        typed = {"authorization": key, "content-type": "application/json"}
        for headers, content in (
            (typed, b""),
            (typed, b"{"),
            (typed, b"\xff"),
            ({"authorization": key}, b'{"type": "a.x"}'),
            (typed | {"content-type": "text/plain"}, b'{"type": "a.x"}'),
            (typed | {"content-type": "application/vnd.acme+json"}, b'{"type": "a.x"}'),
        ):
            got = await lane.post("/v1/events", headers=headers, content=content)
            want = await route.post("/v1/events", headers=headers, content=content)
            assert _answer(got) == _answer(want), (headers, content)
    # Every event accepted above is delivered once: three of the cases and the typed
    # body through each path, and the two idempotent events.
    await receiver.wait_for(2 * 3 + 2 * 1 + 2)
    assert await receiver.quiet(0.3) == 0


async def test_lane_serves_valid_publishes_and_passes_the_rest_on(hookline: Running) -> None:
    acme = await hookline.new_account()
    reached: list[str] = []

    async def framework(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    system = hookline.system
    lane = PublishLane(framework, system=system, route=publish_route(events.router.routes))
    url, server, task = await serve(InputGuard(lane, system.settings.max_json_depth))
    try:
        async with httpx.AsyncClient(base_url=url, headers=acme.headers) as client:
            r = await client.post("/v1/events", json={"type": "a.x", "data": {"n": 1}})
            assert r.status_code == 202, r.text
            assert reached == []
            stored = (await acme.get(f"/v1/events/{r.json()['event_id']}")).json()
            assert stored["data"] == {"n": 1}
            # Refused by the model: the route, not the lane, says why.
            assert (await client.post("/v1/events", json={"type": ""})).status_code == 418
            # Other paths and methods are not the lane's.
            assert (await client.post("/v1/events/batch", json={"events": []})).status_code == 418
            assert (await client.get("/v1/events")).status_code == 418
            assert reached == ["/v1/events", "/v1/events/batch", "/v1/events"]
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
