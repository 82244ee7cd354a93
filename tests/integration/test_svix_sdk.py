"""The official Svix Python SDK, unmodified, against a real Hookline server and real
receivers: a Svix user's steps, one after another, with nothing changed but the
server URL and the token."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import standardwebhooks
from svix import SvixAsync, SvixOptions
from svix.api import (
    ApplicationIn,
    ApplicationListOptions,
    ApplicationPatch,
    EndpointHeadersIn,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointPatch,
    EndpointSecretRotateIn,
    EventExampleIn,
    EventTypeIn,
    EventTypePatch,
    MessageAttemptListByEndpointOptions,
    MessageGetOptions,
    MessageIn,
    MessageListOptions,
    RecoverIn,
)
from svix.exceptions import HttpError, HTTPValidationError
from svix.webhooks import Webhook

from tests.support.receiver import Received, Reply
from tests.support.server import Running

pytestmark = pytest.mark.slow


_open: list[SvixAsync] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while _open:
        await _open.pop()._httpx_client.aclose()


async def _svix(hookline: Running) -> SvixAsync:
    """The SDK as a new account's user would set it up: Hookline's URL, the API key."""
    client = await hookline.new_account()
    token = client.headers["Authorization"].removeprefix("Bearer ")
    svix = SvixAsync(token, SvixOptions(server_url=hookline.url, retry_schedule=[]))
    _open.append(svix)
    return svix


def _verify(secret: str, r: Received) -> Any:
    """Both verifiers a Svix receiver might use accept the request."""
    Webhook(secret).verify(r.body, r.headers)
    standardwebhooks.Webhook(secret).verify(r.body, r.headers)
    return orjson.loads(r.body)


async def test_applications_endpoints_messages_attempts(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline()
    rx = await make_receiver()
    svix = await _svix(hookline)

    # Applications: create with uid, get_or_create, get by id or uid, update, list, delete.
    app = await svix.application.create(ApplicationIn(name="Acme", uid="acme", metadata={"t": "1"}))
    assert (app.uid, app.name, app.metadata) == ("acme", "Acme", {"t": "1"})
    again = await svix.application.get_or_create(ApplicationIn(name="other", uid="acme"))
    assert again.id == app.id
    assert (await svix.application.get("acme")).id == app.id
    patched = await svix.application.patch("acme", ApplicationPatch(name="Acme Inc"))
    assert patched.name == "Acme Inc"
    for n in range(3):
        await svix.application.create(ApplicationIn(name=f"a{n}", uid=f"a{n}"))
    first = await svix.application.list(ApplicationListOptions(limit=2))
    assert len(first.data) == 2
    assert not first.done
    rest = await svix.application.list(ApplicationListOptions(limit=10, iterator=first.iterator))
    assert rest.done
    uids = {a.uid for a in first.data + rest.data}
    assert {"acme", "a0", "a1", "a2", "default"} <= uids
    await svix.application.delete("a0")
    with pytest.raises(HttpError) as missing:
        await svix.application.get("a0")
    assert missing.value.status_code == 404
    with pytest.raises(HttpError) as taken:
        await svix.application.create(ApplicationIn(name="x", uid="acme"))
    assert taken.value.status_code == 409

    # Event types: the same catalog as the native API.
    await svix.event_type.create(EventTypeIn(name="user.signup", description="A new user"))
    await svix.event_type.create(EventTypeIn(name="user.gone", description="Gone"))
    updated = await svix.event_type.patch("user.signup", EventTypePatch(description="Signed up"))
    assert updated.description == "Signed up"
    assert {t.name for t in (await svix.event_type.list()).data} >= {"user.signup", "user.gone"}
    await svix.event_type.delete("user.gone")
    assert (await svix.event_type.get("user.gone")).archived is True

    # Endpoints.
    ep = await svix.endpoint.create(
        "acme",
        EndpointIn(
            url=rx.url,
            uid="main",
            description="primary",
            event_types=["user.signup"],
            channels=["project_1"],
            metadata={"team": "core"},
            throttle_rate=10,
        ),
    )
    assert (ep.uid, ep.description, ep.event_types, ep.channels) == (
        "main",
        "primary",
        ["user.signup"],
        ["project_1"],
    )
    assert ep.throttle_rate == 10
    assert ep.metadata == {"team": "core"}
    assert (await svix.endpoint.get("acme", "main")).id == ep.id
    secret = (await svix.endpoint.get_secret("acme", ep.id)).key
    assert secret.startswith("whsec_")
    await svix.endpoint.set_headers("acme", ep.id, EndpointHeadersIn(headers={"X-A": "1"}))
    await svix.endpoint.patch_headers(
        "acme", ep.id, EndpointHeadersPatchIn(headers={"X-B": "2"}, delete_headers=["X-A"])
    )
    assert (await svix.endpoint.get_headers("acme", ep.id)).headers == {"X-B": "2"}
    other = await svix.endpoint.create("acme", EndpointIn(url=rx.url + "/other", disabled=True))
    assert other.disabled is True
    await svix.endpoint.patch("acme", other.id, EndpointPatch(disabled=False, description="2nd"))
    listed = await svix.endpoint.list("acme")
    assert {e.id for e in listed.data} == {ep.id, other.id}

    # Messages: the receiver gets the payload itself, signed for both verifiers.
    msg = await svix.message.create(
        "acme",
        MessageIn(
            event_type="user.signup",
            payload={"email": "a@example.com"},
            event_id="evt-1",
            channels=["project_1"],
            tags=["signup"],
        ),
    )
    assert msg.event_id == "evt-1"
    assert msg.channels == ["project_1"]
    main, second = await rx.wait_for(2)
    by_path = {r.path: r for r in (main, second)}
    assert _verify(secret, by_path["/"]) == {"email": "a@example.com"}
    assert by_path["/"].headers["svix-id"] == msg.id == by_path["/"].headers["webhook-id"]
    assert {k.lower(): v for k, v in by_path["/"].headers.items()}["x-b"] == "2"
    with pytest.raises(HttpError) as dup:
        await svix.message.create(
            "acme", MessageIn(event_type="user.signup", payload={}, event_id="evt-1")
        )
    assert dup.value.status_code == 409
    # Another channel reaches only the endpoint without channels.
    await svix.message.create(
        "acme", MessageIn(event_type="user.signup", payload={"n": 2}, channels=["project_2"])
    )
    third = (await rx.wait_for(3))[2]
    assert third.path == "/other"
    # SDK 2.x asks for no payloads unless told to.
    assert (await svix.message.get("acme", msg.id)).payload == {}
    got = await svix.message.get("acme", msg.id, MessageGetOptions(with_content=True))
    assert got.payload == {"email": "a@example.com"}
    assert got.tags == ["signup"]
    found = await svix.message.list(
        "acme", MessageListOptions(channel="project_1", event_types=["user.signup"])
    )
    assert [m.id for m in found.data] == [msg.id]
    late = await svix.message.list("acme", MessageListOptions(after=datetime.now(UTC)))
    assert late.data == []

    # Attempts, by message and by endpoint, and one with its response.
    attempts = await svix.message_attempt.list_by_msg("acme", msg.id)
    assert {a.endpoint_id for a in attempts.data} == {ep.id, other.id}
    one = await svix.message_attempt.list_by_endpoint(
        "acme", ep.id, MessageAttemptListByEndpointOptions(status=0)
    )
    assert [a.msg_id for a in one.data] == [msg.id]
    attempt = await svix.message_attempt.get("acme", msg.id, one.data[0].id)
    assert attempt.response_status_code == 200
    assert attempt.response == "ok"
    await svix.message_attempt.resend("acme", msg.id, ep.id)
    resent = (await rx.wait_for(4))[3]
    assert resent.path == "/"
    assert resent.headers["svix-id"] == msg.id

    # Rotation: the old secret still verifies during the grace period.
    new_secret = (await svix.endpoint.rotate_secret("acme", ep.id, EndpointSecretRotateIn())).key
    assert new_secret != secret
    example = await svix.endpoint.send_example(
        "acme", ep.id, EventExampleIn(event_type="user.signup", payload={"x": 1})
    )
    r = (await rx.wait_for(5))[4]
    assert r.headers["svix-id"] == example.id
    assert _verify(new_secret, r) == {"x": 1}
    _verify(secret, r)

    stats = await svix.endpoint.get_stats("acme", ep.id)
    assert stats.success >= 2
    assert stats.fail == 0
    task = await svix.endpoint.recover(
        "acme", ep.id, RecoverIn(since=datetime.now(UTC) - timedelta(hours=1))
    )
    assert task.id.startswith("job_")

    await svix.endpoint.delete("acme", other.id)
    assert [e.id for e in (await svix.endpoint.list("acme")).data] == [ep.id]


async def test_a_scheduled_message_arrives_no_sooner_than_deliver_at(
    make_hookline, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline()
    rx = await make_receiver()
    svix = await _svix(hookline)
    app = await svix.application.create(ApplicationIn(name="Acme"))
    ep = await svix.endpoint.create(app.id, EndpointIn(url=rx.url))
    start = time.monotonic()
    at = datetime.now(UTC) + timedelta(seconds=1.5)
    msg = await svix.message.create(
        app.id, MessageIn(event_type="a.b", payload={"n": 1}, deliver_at=at)
    )
    (got,) = await rx.wait_for(1)
    assert got.at - start >= 1.5 - 0.01  # stored to the millisecond
    secret = (await svix.endpoint.get_secret(app.id, ep.id)).key
    assert _verify(secret, got) == {"n": 1}
    assert got.headers["svix-id"] == msg.id


async def test_errors_in_svix_shapes(make_hookline) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(worker=False)
    svix = await _svix(hookline)
    await svix.health.get()
    with pytest.raises(HttpError) as missing:
        await svix.endpoint.list("no-such-app")
    assert (missing.value.status_code, missing.value.code) == (404, "application_not_found")
    app = await svix.application.create(ApplicationIn(name="a"))
    with pytest.raises(HTTPValidationError) as bad:
        await svix.endpoint.create(app.id, EndpointIn(url="not a url"))
    assert bad.value.status_code == 422
    assert bad.value.detail
    with pytest.raises(HttpError) as unsupported:
        await svix.environment.export()
    assert (unsupported.value.status_code, unsupported.value.code) == (501, "not_supported")


async def test_accounts_see_only_their_own(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(worker=False)
    alice, bob = await _svix(hookline), await _svix(hookline)
    app = await alice.application.create(ApplicationIn(name="alice", uid="shared-uid"))
    ep = await alice.endpoint.create(app.id, EndpointIn(url="http://127.0.0.1:9/"))
    msg = await alice.message.create(app.id, MessageIn(event_type="a.b", payload={}))
    # Bob may use the same uid: uids are per account.
    bobs = await bob.application.create(ApplicationIn(name="bob", uid="shared-uid"))
    assert bobs.id != app.id
    for call in (
        lambda: bob.application.get(app.id),
        lambda: bob.endpoint.get(app.id, ep.id),
        lambda: bob.endpoint.get(bobs.id, ep.id),
        lambda: bob.message.get(app.id, msg.id),
        lambda: bob.message.get(bobs.id, msg.id),
        lambda: bob.message_attempt.list_by_msg(bobs.id, msg.id),
        lambda: bob.endpoint.get_secret(bobs.id, ep.id),
    ):
        with pytest.raises(HttpError) as denied:
            await call()
        assert denied.value.status_code == 404
    assert (await bob.endpoint.list(bobs.id)).data == []
    assert (await bob.message.list(bobs.id)).data == []


async def test_operational_events_in_svix_names(make_hookline, make_receiver) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(failing_after=2)
    ops = await make_receiver()
    broken = await make_receiver(lambda _r, _n: Reply(500, "down"))
    svix = await _svix(hookline)
    native = hookline.client(svix._client.token)
    app = await svix.application.create(ApplicationIn(name="a", uid="a"))
    watcher = await svix.endpoint.create(
        "a",
        EndpointIn(
            url=ops.url,
            event_types=[
                "message.attempt.failing",
                "message.attempt.exhausted",
                "endpoint.disabled",
            ],
        ),
    )
    assert watcher.event_types == [
        "message.attempt.failing",
        "message.attempt.exhausted",
        "endpoint.disabled",
    ]
    secret = (await svix.endpoint.get_secret("a", watcher.id)).key
    bad = await svix.endpoint.create("a", EndpointIn(url=broken.url, event_types=["order.paid"]))
    # A short retry schedule, through the native API: the same webhook.
    r = await native.patch(
        f"/v1/webhooks/{bad.id}", json={"retry_policy": {"schedule": [0.05, 0.05]}}
    )
    assert r.status_code == 200, r.text
    msg = await svix.message.create("a", MessageIn(event_type="order.paid", payload={"n": 1}))
    failing, exhausted = (_verify(secret, r) for r in await ops.wait_for(2))
    assert failing["type"] == "message.attempt.failing"
    assert exhausted["type"] == "message.attempt.exhausted"
    for event in (failing, exhausted):
        assert event["data"]["appId"] == app.id
        assert event["data"]["endpointId"] == bad.id
        assert event["data"]["msgId"] == msg.id
        assert event["data"]["lastAttempt"]["responseStatusCode"] == 500
    await svix.endpoint.patch("a", bad.id, EndpointPatch(disabled=True))
    disabled = _verify(secret, (await ops.wait_for(3))[2])
    assert disabled["type"] == "endpoint.disabled"
    assert disabled["data"]["endpointId"] == bad.id
    assert disabled["data"]["trigger"] == "manual"


async def test_idempotency_key_on_api_v1_posts(make_hookline) -> None:  # type: ignore[no-untyped-def]
    hookline = await make_hookline(worker=False)
    acme = await hookline.new_account()
    body = {"name": "Acme", "uid": "acme"}
    first = await acme.post("/api/v1/app", json=body, headers={"Idempotency-Key": "k1"})
    again = await acme.post("/api/v1/app", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await acme.post(
        "/api/v1/app", json={"name": "Other"}, headers={"Idempotency-Key": "k1"}
    )
    assert other.status_code == 422
    assert other.json()["detail"][0]["type"] == "idempotency_key_reused"
    # Without the key, the same body is a new request: the uid is taken.
    taken = await acme.post("/api/v1/app", json=body)
    assert taken.status_code == 409
    assert taken.json()["code"] == "application_uid_taken"
