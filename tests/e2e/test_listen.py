"""``hookline listen`` end to end: a real server, the real CLI in a subprocess, and a
real local app it forwards to."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from tests.support.cli import CliProcess, client_env
from tests.support.processes import Cluster, HooklineProcess, hookline_env, new_account
from tests.support.receiver import Receiver, Reply
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow


async def _serve(database_url: str, tmp_path: Path) -> HooklineProcess:
    env = hookline_env(database_url, tmp_path, retry_schedule="0.2,0.2")
    return await HooklineProcess(["serve"], env, tmp_path / "serve.log").start()


def _listen(tmp_path: Path, url: str, key: str, forward_to: str, n: int) -> CliProcess:
    args = ["listen", "--forward-to", f"{forward_to}/hooks", "--events", "order.*"]
    return CliProcess(args, client_env(tmp_path, url, key), tmp_path / f"listen-{n}.log")


def _secret(output: str) -> str:
    found = re.search(r"signing secret (whsec_\S+)", output)
    assert found, output
    return found.group(1)


async def _succeeded(acme: httpx.AsyncClient, event_id: str) -> None:
    for _ in range(100):
        event = (await acme.get(f"/v1/events/{event_id}")).json()
        if event["deliveries"][0]["status"] == "succeeded":
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{event_id} was not delivered: {event}")


async def _publish(acme: httpx.AsyncClient, *types: str) -> list[str]:
    ids = []
    for t in types:
        r = await acme.post("/v1/events", json={"type": t, "data": {"t": t}})
        assert r.status_code == 202, r.text
        ids.append(r.json()["event_id"])
    return ids


async def test_listen_forwards_signed_deliveries_and_loses_none_across_a_crash(
    database_url: str, tmp_path: Path, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    # The local app fails its very first request: that delivery is retried on policy.
    app: Receiver = await make_receiver(lambda _r, n: Reply(500 if n == 0 else 200))
    server = await _serve(database_url, tmp_path)
    acme = await new_account(server)
    key = acme.headers["Authorization"].removeprefix("Bearer ")
    first = await _listen(tmp_path, server.url, key, app.url, 1).start()
    try:
        out = await first.wait_output("connected")
        secret = _secret(out)
        before = await _publish(acme, "order.paid", "invoice.sent", "order.shipped")
        got = await app.wait_for(3)  # two events, the first one twice
        await first.wait_output(r"-> 200 OK", 2)
        assert "-> 500 Internal Server Error" in first.output()
        assert "will be retried" in first.output()
        for event_id in (before[0], before[2]):
            await _succeeded(acme, event_id)

        first.signal(signal.SIGKILL)  # a crash: no clean-up, the webhook stays
        await first.wait()
        during = await _publish(acme, "order.refunded", "order.closed")

        second = await _listen(tmp_path, server.url, key, app.url, 2).start()
        try:
            out = await second.wait_output(r"-> 200 OK", 2)
            assert "resuming" in out
            assert _secret(out) == secret
            got = await app.wait_for(5)
            second.signal(signal.SIGTERM)
            assert await second.wait() == 0
            assert "deleted webhook" in second.output()
        finally:
            await second.stop()
    finally:
        await first.stop()

    # Every order event arrived, signed with the printed secret, forwarded by the CLI
    # (the worker never pushes to a listen webhook's URL).
    assert [r.path for r in got] == ["/hooks"] * 5
    assert all(r.headers["user-agent"].startswith("python-httpx") for r in got)
    ids = [Webhook(secret).verify(r.body, r.headers)["id"] for r in got]
    assert sorted(set(ids)) == sorted([before[0], before[2], *during])

    hooks = (await acme.get("/v1/webhooks", params={"include_deleted": "true"})).json()
    (hook,) = hooks["data"]
    assert hook["mode"] == "listen"
    assert hook["status"] == "deleted"
    # The local outcomes were recorded as ordinary attempts.
    event = (await acme.get(f"/v1/events/{before[0]}")).json()
    (delivery,) = event["deliveries"]
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
    await acme.aclose()
    assert await server.terminate() == 0


async def test_listen_with_separate_api_and_worker_processes(
    cluster: Cluster, tmp_path: Path, receiver: Receiver
) -> None:
    api = await cluster.api()
    await cluster.worker()
    acme = await new_account(api)
    key = acme.headers["Authorization"].removeprefix("Bearer ")
    listen = await _listen(tmp_path, api.url, key, receiver.url, 1).start()
    try:
        await listen.wait_output("connected")
        ids = await _publish(acme, "order.a", "order.b", "order.c")
        got = await receiver.wait_for(3)
        assert sorted(r.headers["webhook-id"] for r in got) == sorted(ids)
        assert await receiver.quiet(0.5) == 0
    finally:
        listen.signal(signal.SIGINT)
        assert await listen.wait() == 0
        await listen.stop()
    await acme.aclose()


async def test_listen_reconnects_after_the_connection_drops_and_gets_what_it_missed(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    server = await _serve(database_url, tmp_path)
    proxy = await TcpProxy("127.0.0.1", int(server.url.rsplit(":", 1)[1])).start()
    acme = await new_account(server)
    key = acme.headers["Authorization"].removeprefix("Bearer ")
    listen = _listen(tmp_path, f"http://127.0.0.1:{proxy.port}", key, receiver.url, 1)
    await listen.start()
    try:
        await listen.wait_output("connected")
        first = await _publish(acme, "order.one")
        await receiver.wait_for(1)
        await _succeeded(acme, first[0])  # reported before the cut, so not sent again
        await proxy.cut()  # the network goes away mid-stream
        await listen.wait_output("connection lost")
        missed = await _publish(acme, "order.two", "order.three")
        await proxy.restore()
        await listen.wait_output("connected", 2)
        got = await receiver.wait_for(3, timeout=20)
        assert sorted(r.headers["webhook-id"] for r in got) == sorted(first + missed)
        listen.signal(signal.SIGTERM)
        assert await listen.wait() == 0
    finally:
        await listen.stop()
        await proxy.stop()
        await acme.aclose()
        await server.stop()
