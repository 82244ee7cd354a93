"""What the console's overview and live pages read, on each backend: deliveries finished
per minute, and the newest attempt of an account, an application or a webhook."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.receiver import Receiver, Reply
from tests.support.server import Running


async def _account(hookline: Running, name: str) -> tuple[str, Any]:
    r = await hookline.admin.post("/v1/accounts", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()["account_id"], hookline.client(r.json()["api_key"]["key"])


async def test_finished_per_minute_counts_succeeded_and_failed(
    hookline: Running, make_receiver: Any
) -> None:
    account, client = await _account(hookline, "chart")
    ok: Receiver = await make_receiver(None)
    down: Receiver = await make_receiver(lambda _r, _n: Reply(status=500))
    for url, kind in ((ok.url, "good"), (down.url, "bad")):
        r = await client.post(
            "/v1/webhooks",
            json={"callback_url": url, "events": [kind], "retry_policy": {"schedule": []}},
        )
        assert r.status_code == 201, r.text
    for kind, n in (("good", 3), ("bad", 2)):
        for i in range(n):
            assert (
                await client.post("/v1/events", json={"type": kind, "data": {"i": i}})
            ).status_code == 202
    await ok.wait_for(3)
    await down.wait_for(2)
    deliveries = hookline.system.deliveries
    for _ in range(100):
        series = await deliveries.finished_per_minute(account, 60)
        if sum(s for _, s, _ in series) == 3 and sum(f for _, _, f in series) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(series) == 60
    assert sum(s for _, s, _ in series) == 3
    assert sum(f for _, _, f in series) == 2
    minutes = [at for at, _, _ in series]
    assert minutes == sorted(minutes)
    assert all(at.second == 0 and at.tzinfo is not None for at in minutes)
    # Another account's deliveries are not counted.
    other, _ = await _account(hookline, "quiet")
    assert all(s == f == 0 for _, s, f in await deliveries.finished_per_minute(other, 60))


async def test_the_newest_attempt_of_an_account_an_application_and_a_webhook(
    hookline: Running, receiver: Receiver
) -> None:
    account, client = await _account(hookline, "live")
    deliveries = hookline.system.deliveries
    assert await deliveries.newest_attempt_id(account) is None
    r = await client.post("/v1/applications", json={"name": "second", "uid": "second"})
    assert r.status_code == 201, r.text
    app = r.json()["application_id"]
    hooks = []
    for application in ("default", "second"):
        r = await client.post(
            "/v1/webhooks", json={"callback_url": receiver.url, "application": application}
        )
        assert r.status_code == 201, r.text
        hooks.append(r.json()["webhook_id"])
    seen = []
    for n, hook in enumerate(hooks, start=1):
        assert (await client.post(f"/v1/webhooks/{hook}/test", json={})).status_code == 202
        await receiver.wait_for(n)
        for _ in range(100):
            page = await deliveries.attempts_page(account, endpoint_id=hook, cursor=None, limit=1)
            if page.items:
                break
            await asyncio.sleep(0.05)
        seen.append(page.items[0].id)
    first, second = seen
    assert await deliveries.newest_attempt_id(account) == second
    assert await deliveries.newest_attempt_id(account, endpoint_id=hooks[0]) == first
    assert await deliveries.newest_attempt_id(account, app_id=app) == second
    other, _ = await _account(hookline, "other")
    assert await deliveries.newest_attempt_id(other) is None
    assert await deliveries.newest_attempt_id(other, endpoint_id=hooks[0]) is None
