"""Gateway figures: calls accepted per second, and the time Hookline adds between an
upstream's answer and the consumer's webhook (p50/p99).

Runs ``hookline serve`` as a subprocess on a fresh data directory (SQLite unless
``--database-url`` is given), with a real upstream and a real consumer receiver in
this process, all on 127.0.0.1::

    python -m bench.gateway [--calls 2000] [--concurrency 32] [--latency-calls 300]

Phase 0 measures acceptance alone (``serve --no-worker``: nothing is forwarded).
Phase 1 fires ``--calls`` calls from ``--concurrency`` clients and counts how many
202s per second come back (the upstream answers at once, so runner and delivery
worker are busy at the same time, as in real use). Phase 2 makes calls one by one and,
for each, takes the webhook's arrival time minus the moment the upstream handed over
its answer (both read from this process's monotonic clock).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

ADMIN_KEY = "bench-admin-key-0123456789"


class Sides:
    """The upstream and the consumer's receiver, sharing one clock."""

    def __init__(self) -> None:
        self.answered: dict[str, float] = {}
        self.delivered: dict[str, float] = {}
        self.arrived = asyncio.Event()
        self._runners: list[web.AppRunner] = []

    async def start(self) -> tuple[str, str]:
        upstream = web.Application()
        upstream.router.add_post("/{tail:.*}", self._answer)
        receiver = web.Application()
        receiver.router.add_post("/{tail:.*}", self._receive)
        ports = []
        for app in (upstream, receiver):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
            await site.start()
            self._runners.append(runner)
            ports.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        return f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"

    async def stop(self) -> None:
        for r in self._runners:
            await r.cleanup()

    async def _answer(self, request: web.Request) -> web.Response:
        await request.read()
        self.answered[request.headers["Hookline-Request-Id"]] = time.monotonic()
        return web.json_response({"ok": True})

    async def _receive(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        if body["type"] == "call.completed":
            self.delivered.setdefault(body["data"]["request_id"], time.monotonic())
            self.arrived.set()
        return web.Response(text="ok")


async def start_server(
    data_dir: Path, database_url: str | None, *, worker: bool = True
) -> tuple[Any, str]:
    env = os.environ | {
        "HOOKLINE_DATA_DIR": str(data_dir),
        "HOOKLINE_ADMIN_KEY": ADMIN_KEY,
        "HOOKLINE_EGRESS_ALLOW": "127.0.0.0/8",
        "HOOKLINE_PORT": "0",
        "HOOKLINE_LOG_LEVEL": "warning",
    }
    if database_url:
        env["HOOKLINE_DATABASE_URL"] = database_url
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hookline",
        "serve",
        *([] if worker else ["--no-worker"]),
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
    return proc, line.split("listening on ", 1)[1].split(" ", 1)[0]


async def setup(
    http: aiohttp.ClientSession, url: str, upstream: str, calls: int
) -> tuple[str, str]:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    keys = {}
    for name in ("owner", "consumer"):
        async with http.post(f"{url}/v1/accounts", json={"name": name}, headers=admin) as r:
            doc = await r.json()
            keys[name] = doc["api_key"]["key"]
            if name == "consumer":
                credit = {"amount": calls * 10}
                async with http.post(
                    f"{url}/v1/accounts/{doc['account_id']}/credits", json=credit, headers=admin
                ) as c:
                    assert c.status == 201, await c.text()
    api = {"name": "bench", "upstream_url": upstream, "price": 1, "public": True, "timeout": 60}
    async with http.post(
        f"{url}/v1/apis", json=api, headers={"Authorization": f"Bearer {keys['owner']}"}
    ) as r:
        api_id = (await r.json())["api_id"]
    return keys["consumer"], api_id


async def accept_rate(
    http: aiohttp.ClientSession, url: str, key: str, body: dict[str, Any], calls: int, clients: int
) -> float:
    headers = {"Authorization": f"Bearer {key}"}
    left = calls

    async def client() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            async with http.post(f"{url}/v1/calls", json=body, headers=headers) as r:
                assert r.status == 202, await r.text()
                await r.read()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return calls / (time.perf_counter() - started)


async def overhead(
    http: aiohttp.ClientSession, url: str, key: str, body: dict[str, Any], sides: Sides, n: int
) -> list[float]:
    headers = {"Authorization": f"Bearer {key}"}
    samples = []
    for _ in range(n):
        async with http.post(f"{url}/v1/calls", json=body, headers=headers) as r:
            call_id = (await r.json())["request_id"]
        async with asyncio.timeout(30):
            while call_id not in sides.delivered:
                sides.arrived.clear()
                await sides.arrived.wait()
        samples.append((sides.delivered[call_id] - sides.answered[call_id]) * 1000)
    return samples


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def accept_only(args: argparse.Namespace, upstream: str, receiver: str) -> float:
    """Phase 0: the API alone (no runner, no delivery worker): what accepting costs."""
    with tempfile.TemporaryDirectory(prefix="hookline-bench-") as tmp:
        proc, url = await start_server(Path(tmp), args.database_url, worker=False)
        try:
            connector = aiohttp.TCPConnector(limit=args.concurrency + 8)
            async with aiohttp.ClientSession(connector=connector) as http:
                key, api_id = await setup(http, url, upstream, args.calls)
                body = {"api_id": api_id, "params": {"x": 1}, "webhook_url": receiver}
                return await accept_rate(http, url, key, body, args.calls, args.concurrency)
        finally:
            proc.terminate()
            await proc.wait()


async def main(args: argparse.Namespace) -> None:
    sides = Sides()
    upstream, receiver = await sides.start()
    alone = await accept_only(args, upstream, receiver)
    with tempfile.TemporaryDirectory(prefix="hookline-bench-") as tmp:
        proc, url = await start_server(Path(tmp), args.database_url)
        try:
            connector = aiohttp.TCPConnector(limit=args.concurrency + 8)
            async with aiohttp.ClientSession(connector=connector) as http:
                key, api_id = await setup(http, url, upstream, args.calls + args.latency_calls)
                body = {"api_id": api_id, "params": {"x": 1}, "webhook_url": receiver}
                rate = await accept_rate(http, url, key, body, args.calls, args.concurrency)
                async with asyncio.timeout(120):  # let phase 1's results drain
                    while len(sides.delivered) < args.calls:
                        await asyncio.sleep(0.05)
                samples = await overhead(http, url, key, body, sides, args.latency_calls)
        finally:
            proc.terminate()
            await proc.wait()
    await sides.stop()
    db = "postgresql" if args.database_url else "sqlite"
    print(f"database: {db}; calls: {args.calls} from {args.concurrency} clients")
    print(f"accepted, API only (serve --no-worker): {alone:.0f} calls/s")
    print(
        f"accepted, everything running: {rate:.0f} calls/s "
        "(each call also forwarded, settled and delivered)"
    )
    print(
        f"upstream answer -> consumer webhook ({len(samples)} sequential calls): "
        f"p50 {statistics.median(samples):.1f} ms, p99 {pct(samples, 99):.1f} ms, "
        f"max {max(samples):.1f} ms"
    )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-calls", type=int, default=300)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument(
        "--wait",
        action="store_true",
        help="instead: Prefer: wait round trips against the upstream directly "
        "(see bench/gateway_wait.py)",
    )
    args = parser.parse_args()
    if args.wait:
        from bench import gateway_wait

        asyncio.run(gateway_wait.main(args))
    else:
        asyncio.run(main(args))


if __name__ == "__main__":
    cli()
