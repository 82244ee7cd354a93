"""Calls survive a crash: a real ``hookline serve`` process is killed with SIGKILL while
upstreams hold its calls, and a new server on the same SQLite file takes over."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.integration.gateway.conftest import MakeParty
from tests.support.gateway import Party, call, list_api, serve_process, until_final
from tests.support.receiver import Receiver
from tests.support.server import ADMIN_KEY
from tests.support.upstream import Got, Upstream

pytestmark = pytest.mark.slow


async def test_hold_calls_after_a_crash(
    tmp_path: Path, make_hookline: Any, receiver: Receiver, make_party: MakeParty
) -> None:
    crashed = asyncio.Event()

    async def hold_until_crash(got: Got, n: int) -> tuple[int, Any, dict[str, str]]:
        if got.path == "/cb":
            return 202, {"accepted": True}, {}
        if not crashed.is_set():  # the first server's requests get no answer before it dies
            await crashed.wait()
        return 200, {"attempt": n}, {}

    upstream = await Upstream(hold_until_crash).start()
    proc, url = await serve_process(tmp_path)
    try:
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10
        ) as admin:
            keys = []
            for name in ("owner", "consumer"):
                r = await admin.post("/v1/accounts", json={"name": name})
                keys.append(r.json()["api_key"]["key"])
        owner = Party(
            httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {keys[0]}"}), ""
        )
        consumer = Party(
            httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {keys[1]}"}), ""
        )
        once = await list_api(owner, upstream.url, name="charge card")
        again = await list_api(owner, upstream.url, name="render", idempotent=True)
        later = await list_api(owner, upstream.url + "/cb", name="report", completion="callback")
        c_once = await call(consumer, once["api_id"], webhook_url=receiver.url)
        c_again = await call(consumer, again["api_id"], webhook_url=receiver.url)
        await upstream.wait_for(2)
        c_later = await call(consumer, later["api_id"], webhook_url=receiver.url)
        (*_, cb_request) = await upstream.wait_for(3)
        callback_url = cb_request.headers["hookline-callback-url"]
        async with asyncio.timeout(10):
            while not (await consumer.client.get(f"/v1/calls/{c_later['request_id']}")).json()[
                "awaiting_callback"
            ]:
                await asyncio.sleep(0.02)
        await owner.client.aclose()
        await consumer.client.aclose()

        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
        crashed.set()

        hookline = await make_hookline(
            database_url=f"sqlite:///{tmp_path / 'hookline.db'}", call_lease_seconds=1.0
        )
        consumer = await make_party(hookline, "unused")  # a client for the new server
        consumer.client.headers["Authorization"] = f"Bearer {keys[1]}"

        # Not idempotent: failed as interrupted, not sent again.
        done = await until_final(consumer, c_once["request_id"])
        assert done["status"] == "failed"
        assert done["error"]["code"] == "interrupted"
        # Idempotent: sent again and finished.
        done = await until_final(consumer, c_again["request_id"])
        assert done["status"] == "succeeded"
        assert done["runs"] == 2
        # The callback call kept waiting and its upstream can still report.
        new_url = callback_url.replace(url, hookline.url)
        async with httpx.AsyncClient(timeout=10) as up:
            r = await up.post(new_url, json={"body": {"pages": 3}})
            assert r.status_code == 202, r.text
        assert (await until_final(consumer, c_later["request_id"]))["status"] == "succeeded"

        hooks = await receiver.wait_for(3)
        told = {
            orjson.loads(h.body)["data"]["request_id"]: orjson.loads(h.body)["data"] for h in hooks
        }
        assert told[c_once["request_id"]]["error"]["code"] == "interrupted"
        assert told[c_again["request_id"]]["status"] == "succeeded"
        sent_again = [
            g
            for g in upstream.received
            if g.headers["hookline-request-id"] == c_again["request_id"]
        ]
        sent_once = [
            g for g in upstream.received if g.headers["hookline-request-id"] == c_once["request_id"]
        ]
        assert (len(sent_again), len(sent_once)) == (2, 1)
    finally:
        if proc.returncode is None:
            proc.kill()
            await asyncio.wait_for(proc.wait(), 10)
        await upstream.stop()
