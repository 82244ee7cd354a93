"""Idempotency-Key on every POST of the native API, over real HTTP on both backends."""

from __future__ import annotations

import asyncio

from tests.support.server import Running

HOOK = {"callback_url": "http://127.0.0.1:9/hooks", "events": ["invoice.*"]}


async def test_same_key_and_body_replays_the_first_answer(hookline: Running) -> None:
    acme = await hookline.new_account()
    headers = {"Idempotency-Key": "create-hook-1"}
    first = await acme.post("/v1/webhooks", json=HOOK, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    again = await acme.post("/v1/webhooks", json=HOOK, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/json"
    assert again.json() == first.json()
    listed = (await acme.get("/v1/webhooks")).json()["data"]
    assert [w["webhook_id"] for w in listed] == [first.json()["webhook_id"]]


async def test_same_key_with_a_different_body_is_refused(hookline: Running) -> None:
    acme = await hookline.new_account()
    headers = {"Idempotency-Key": "k"}
    assert (await acme.post("/v1/webhooks", json=HOOK, headers=headers)).status_code == 201
    other = await acme.post("/v1/webhooks", json=HOOK | {"events": ["a"]}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    # The same key on another route is another request, too.
    elsewhere = await acme.post("/v1/events", json={"type": "a"}, headers=headers)
    assert elsewhere.json()["code"] == "idempotency_key_reused"
    assert len((await acme.get("/v1/webhooks")).json()["data"]) == 1


async def test_keys_belong_to_one_caller(hookline: Running) -> None:
    acme = await hookline.new_account("acme")
    other = await hookline.new_account("other")
    headers = {"Idempotency-Key": "shared"}
    mine = (await acme.post("/v1/webhooks", json=HOOK, headers=headers)).json()
    theirs = await other.post("/v1/webhooks", json=HOOK, headers=headers)
    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["webhook_id"] != mine["webhook_id"]
    # The admin key has its own scope too: creating an account once.
    created = [
        await hookline.admin.post("/v1/accounts", json={"name": "x"}, headers=headers)
        for _ in range(2)
    ]
    assert created[0].json()["account_id"] == created[1].json()["account_id"]
    assert created[1].headers["idempotent-replayed"] == "true"


async def test_concurrent_duplicates_run_once(hookline: Running) -> None:
    acme = await hookline.new_account()
    headers = {"Idempotency-Key": "race"}
    answers = await asyncio.gather(
        *(acme.post("/v1/webhooks", json=HOOK, headers=headers) for _ in range(6))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["webhook_id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 5
    assert len((await acme.get("/v1/webhooks")).json()["data"]) == 1


async def test_client_errors_are_kept_and_keys_expire(make_hookline) -> None:  # type: ignore[no-untyped-def]
    # Long enough for the replay to come within it on a loaded machine.
    running = await make_hookline(idempotency_ttl=2.0)
    acme = await running.new_account()
    headers = {"Idempotency-Key": "once"}
    bad = {"callback_url": "ftp://nowhere"}
    first = await acme.post("/v1/webhooks", json=bad, headers=headers)
    assert first.status_code == 422
    again = await acme.post("/v1/webhooks", json=bad, headers=headers)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    await asyncio.sleep(2.1)
    # Expired: the key is free for a new request.
    fresh = await acme.post("/v1/webhooks", json=HOOK, headers=headers)
    assert fresh.status_code == 201


async def test_unusable_keys_and_callers(hookline: Running) -> None:
    acme = await hookline.new_account()
    long = await acme.post("/v1/webhooks", json=HOOK, headers={"Idempotency-Key": "x" * 256})
    assert long.status_code == 422
    assert long.json()["code"] == "invalid_idempotency_key"
    # No credentials: the route refuses it as it would without the key.
    anonymous = await hookline.admin.post(
        "/v1/webhooks", json=HOOK, headers={"Idempotency-Key": "k", "Authorization": "Bearer no"}
    )
    assert anonymous.status_code == 401
