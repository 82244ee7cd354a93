"""Accounts, keys and isolation, over real HTTP."""

from __future__ import annotations

from tests.support.receiver import Receiver
from tests.support.server import Running


async def test_admin_creates_account_and_its_key_works(hookline: Running) -> None:
    r = await hookline.admin.post("/v1/accounts", json={"name": "acme"})
    assert r.status_code == 201
    body = r.json()
    assert body["account_id"].startswith("acct_")
    key = body["api_key"]["key"]
    async with hookline.client(key) as acme:
        assert (await acme.get("/v1/webhooks")).status_code == 200
        assert (await acme.get(f"/v1/accounts/{body['account_id']}")).json()["name"] == "acme"


async def test_keys_are_shown_once_and_stored_hashed(hookline: Running) -> None:
    r = await hookline.admin.post("/v1/accounts", json={"name": "acme"})
    key = r.json()["api_key"]["key"]
    async with hookline.client(key) as acme:
        listed = (await acme.get("/v1/keys")).json()["data"]
        assert all("key" not in k for k in listed)
    import sqlalchemy as sa

    from hookline.store.tables import api_keys

    async with hookline.system.db.read() as conn:
        stored = (await conn.execute(sa.select(api_keys.c.key_hash))).scalars().all()
    assert key not in stored
    assert all(len(h) == 64 for h in stored)


async def test_more_keys_and_revocation(hookline: Running) -> None:
    acme = await hookline.new_account()
    second = await acme.post("/v1/keys", json={"name": "ci"})
    assert second.status_code == 201
    key2, key2_id = second.json()["key"], second.json()["key_id"]
    async with hookline.client(key2) as via_second:
        assert (await via_second.get("/v1/webhooks")).status_code == 200
        revoked = await acme.delete(f"/v1/keys/{key2_id}")
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        denied = await via_second.get("/v1/webhooks")
        assert denied.status_code == 401
        assert denied.json()["code"] == "unauthorized"
    await acme.aclose()


async def test_one_account_never_sees_another(hookline: Running, receiver: Receiver) -> None:
    alice = await hookline.new_account("alice")
    bob = await hookline.new_account("bob")
    hook = (await alice.post("/v1/webhooks", json={"callback_url": receiver.url})).json()
    event = (await alice.post("/v1/events", json={"type": "a.b", "data": {}})).json()
    await receiver.wait_for(1)

    hid = hook["webhook_id"]
    assert (await bob.get(f"/v1/webhooks/{hid}")).status_code == 404
    assert (await bob.patch(f"/v1/webhooks/{hid}", json={"description": "x"})).status_code == 404
    assert (await bob.delete(f"/v1/webhooks/{hid}")).status_code == 404
    assert (await bob.get(f"/v1/webhooks/{hid}/secret")).status_code == 404
    assert (await bob.get(f"/v1/webhooks/{hid}/deliveries")).status_code == 404
    assert (await bob.get(f"/v1/events/{event['event_id']}")).status_code == 404
    assert (await bob.get("/v1/webhooks")).json()["data"] == []
    assert (await bob.get("/v1/events")).json()["data"] == []
    # Bob's events never reach Alice's webhook.
    await bob.post("/v1/events", json={"type": "a.b", "data": {}})
    assert await receiver.quiet(0.3) == 0
    await alice.aclose()
    await bob.aclose()


async def test_admin_only_routes(hookline: Running) -> None:
    acme = await hookline.new_account()
    r = await acme.post("/v1/accounts", json={"name": "evil"})
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    r = await hookline.admin.get("/v1/webhooks")
    assert r.status_code == 403
    await acme.aclose()


async def test_missing_or_bad_key(hookline: Running) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=hookline.url) as anon:
        r = await anon.get("/v1/webhooks")
        assert r.status_code == 401
        assert r.json() == {
            "error": "A valid API key is required: send Authorization: Bearer <key>.",
            "code": "unauthorized",
        }
        r = await anon.get("/v1/webhooks", headers={"Authorization": "Bearer hk_nope"})
        assert r.status_code == 401
        r = await anon.get("/v1/webhooks", headers={"Authorization": "Basic abc"})
        assert r.status_code == 401
