"""The input limits end to end: what they keep exact, what is configurable, and reads that
survive a record stored before the limits existed."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
import starlette.requests

from hookline.store.endpoints import EndpointRepository
from tests.support.factories import make_endpoint
from tests.support.receiver import Receiver
from tests.support.server import Running


async def test_integers_at_the_edges_are_delivered_digit_for_digit(
    hookline: Running, receiver: Receiver
) -> None:
    acme = await hookline.new_account()
    await acme.post("/v1/webhooks", json={"callback_url": receiver.url})
    deep: object = "core"
    for _ in range(60):
        deep = [deep]
    body = (
        b'{"type":"a.b","data":{"max":9223372036854775807,"min":-9223372036854775808,'
        b'"deep":' + orjson.dumps(deep) + b"}}"
    )
    r = await acme.post("/v1/events", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 202, r.text
    (got,) = await receiver.wait_for(1)
    assert b'"max":9223372036854775807' in got.body
    assert b'"min":-9223372036854775808' in got.body
    assert orjson.loads(got.body)["data"]["deep"] == deep
    read = await acme.get(f"/v1/events/{r.json()['event_id']}")
    assert read.json()["data"]["max"] == 2**63 - 1


async def test_json_depth_is_a_setting(make_hookline: Callable[..., Awaitable[Running]]) -> None:
    hookline = await make_hookline(max_json_depth=4, worker=False)
    acme = await hookline.new_account()
    ok = await acme.post("/v1/events", json={"type": "a", "data": [[["x"]]]})
    assert ok.status_code == 202, ok.text
    deep = await acme.post("/v1/events", json={"type": "a", "data": [[[["x"]]]]})
    assert deep.status_code == 422
    assert deep.json()["code"] == "json_too_deep"


# Only SQLite could ever have stored a lone surrogate: PostgreSQL text refuses it.
@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_stored_value_json_cannot_encode_does_not_break_reads(
    hookline: Running,
) -> None:
    acme = await hookline.new_account()
    hook = (await acme.post("/v1/webhooks", json={"callback_url": "http://127.0.0.1:9/"})).json()
    account_id = (await hookline.admin.get("/v1/accounts")).json()["data"][0]["account_id"]
    app_id = await hookline.system.accounts.default_app_id(account_id)
    # As the API stored it before the input limits: a lone surrogate in a header value.
    broken = make_endpoint(
        id="ep_0BROKEN", account_id=account_id, app_id=app_id, headers={"X-A": "a\ud800b"}
    )
    await EndpointRepository(hookline.system.db).insert(broken)
    listed = await acme.get("/v1/webhooks")
    assert listed.status_code == 200, listed.text
    ids = {h["webhook_id"]: h for h in listed.json()["data"]}
    assert set(ids) == {hook["webhook_id"], "ep_0BROKEN"}
    assert ids["ep_0BROKEN"]["headers"] == {"X-A": "a\ufffdb"}
    one = await acme.get("/v1/webhooks/ep_0BROKEN")
    assert one.status_code == 200
    assert one.json()["headers"] == {"X-A": "a\ufffdb"}


async def test_a_json_body_is_parsed_once_on_its_way_to_its_route(
    hookline: Running, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard's parse is the route's: FastAPI reads the body the guard read and does not
    parse it again (a second parse costs CPU, and a second copy of every string in it)."""
    seen: list[bytes] = []

    def loads(body: bytes, **kwargs: Any) -> Any:
        seen.append(body)
        return json.loads(body, **kwargs)

    monkeypatch.setattr(starlette.requests, "json", SimpleNamespace(loads=loads))
    acme = await hookline.new_account()
    hook = await acme.post("/v1/webhooks", json={"callback_url": receiver.url})
    assert hook.status_code == 201, hook.text
    r = await acme.post("/v1/events", json={"type": "a.b", "data": {"note": "é" * 1000}})
    assert r.status_code == 202, r.text
    (got,) = await receiver.wait_for(1)
    assert orjson.loads(got.body)["data"] == {"note": "é" * 1000}
    batch = await acme.post("/v1/events/batch", json={"events": [{"type": "a.c"}]})
    assert batch.status_code == 202, batch.text
    assert seen == []
    # What the guard does not parse (a blank body) FastAPI reads and answers as before.
    blank = await acme.post(
        "/v1/events", content=b"  ", headers={"content-type": "application/json"}
    )
    assert seen == [b"  "]
    assert blank.status_code == 400, blank.text
    assert blank.json()["code"] == "invalid_json"
