"""PostgreSQL connections cut or the server briefly unreachable: the API answers 503
promptly, workers reconnect and carry on, and no acknowledged event is lost."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.support import postgres
from tests.support.processes import Cluster, hookline_env, new_account
from tests.support.receiver import Receiver
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow


async def _publish(client: httpx.AsyncClient, n: int) -> httpx.Response:
    # Any hang longer than the client's timeout fails the test with an exception.
    return await client.post("/v1/events", json={"type": "a", "data": {"n": n}})


def _acked_or_unavailable(responses: list[httpx.Response]) -> list[str]:
    """Check every answer is 202 or a clean 503; return the acknowledged event ids."""
    acked = []
    for r in responses:
        if r.status_code == 202:
            acked.append(r.json()["event_id"])
        else:
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "database_unavailable"
    return acked


async def test_connections_terminated_by_the_server(
    cluster: Cluster, receiver: Receiver, postgres_url: str
) -> None:
    # Polling once a minute: deliveries sooner than that came through LISTEN/NOTIFY,
    # so the worker's listening connection was re-established.
    api = await cluster.api(poll_interval=60)
    await cluster.worker(poll_interval=60)
    acme = await new_account(api)
    r = await acme.post("/v1/webhooks", json={"callback_url": receiver.url})
    assert r.status_code == 201, r.text
    assert (await _publish(acme, 0)).status_code == 202
    await receiver.wait_for(1)

    # The API's pool, the worker's pool and its listening connection at least.
    assert await postgres.terminate_connections(postgres_url) >= 3

    acked = _acked_or_unavailable([await _publish(acme, n) for n in range(1, 11)])
    assert acked, "the API never recovered"
    got = await receiver.wait_for(1 + len(acked), timeout=20)
    assert set(acked) <= {g.headers["webhook-id"] for g in got}
    await acme.aclose()


async def test_database_unreachable_for_a_while(
    postgres_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    url = make_url(postgres_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    cluster = Cluster(proxied, tmp_path, db_connect_timeout=1)
    try:
        api = await cluster.api()
        await cluster.worker()
        acme = await new_account(api)
        r = await acme.post("/v1/webhooks", json={"callback_url": receiver.url})
        assert r.status_code == 201, r.text

        before: list[httpx.Response] = []
        during: list[httpx.Response] = []
        after: list[httpx.Response] = []
        current = before
        stop = asyncio.Event()

        async def publisher(k: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                current.append(await _publish(acme, k * 100_000 + n))
                await asyncio.sleep(0.01)

        publishers = [asyncio.create_task(publisher(k)) for k in range(4)]
        await asyncio.sleep(1.0)
        await proxy.cut()
        current = during
        await asyncio.sleep(3.0)
        await proxy.restore()
        current = after
        await asyncio.sleep(3.0)
        stop.set()
        await asyncio.gather(*publishers)

        acked = [_acked_or_unavailable(rs) for rs in (before, during, after)]
        assert acked[0], "nothing was published before the outage"
        assert any(r.status_code == 503 for r in during), "the outage went unnoticed"
        assert acked[2], "the API never recovered"
        everything = {i for ids in acked for i in ids}
        await receiver.wait_for(len(everything), timeout=30)
        # Give late stragglers a moment, then compare: every acknowledged event arrived.
        loop = asyncio.get_running_loop()
        end = loop.time() + 30
        while not everything <= {g.headers["webhook-id"] for g in receiver.received}:
            assert loop.time() < end, "acknowledged events were lost"
            await asyncio.sleep(0.1)
        await acme.aclose()
    finally:
        await cluster.stop()
        await proxy.stop()


async def test_a_process_started_without_its_database_says_so(tmp_path: Path) -> None:
    env = hookline_env("postgresql://postgres@127.0.0.1:1/hookline", tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hookline",
        "worker",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert "database is unavailable" in err.decode()
    assert "Traceback" not in err.decode()
