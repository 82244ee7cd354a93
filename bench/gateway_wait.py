"""``Prefer: wait`` round trips through Hookline against calling the upstream directly,
in the same run, for an upstream that takes 50 ms (``python -m bench.gateway --wait``).

Both phases send ``--calls`` requests from ``--concurrency`` clients. The direct phase
POSTs to the upstream itself; the Hookline phase POSTs ``/v1/calls`` with ``Prefer:
wait=30`` and counts only ``200`` answers carrying the finished call: each round trip
covers acceptance, the runner's claim, the upstream request, settlement and the wake-up
of the waiting request.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.gateway import pct, setup, start_server

UPSTREAM_LATENCY = 0.05


async def slow_upstream() -> tuple[web.AppRunner, str]:
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(UPSTREAM_LATENCY)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def round_trips(
    http: aiohttp.ClientSession,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    calls: int,
    clients: int,
    expect: int,
) -> tuple[float, list[float]]:
    """``(requests per second, round trip times in ms)``."""
    left = calls
    samples: list[float] = []

    async def client() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            started = time.perf_counter()
            async with http.post(url, json=body, headers=headers) as r:
                text = await r.text()
                assert r.status == expect, f"{r.status}: {text}"
            samples.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return calls / (time.perf_counter() - started), samples


async def main(args: argparse.Namespace) -> None:
    runner, upstream = await slow_upstream()
    try:
        with tempfile.TemporaryDirectory(prefix="hookline-bench-") as tmp:
            proc, url = await start_server(Path(tmp), args.database_url)
            try:
                connector = aiohttp.TCPConnector(limit=args.concurrency + 8)
                async with aiohttp.ClientSession(connector=connector) as http:
                    key, api_id = await setup(http, url, upstream, args.calls * 2)
                    direct = await round_trips(
                        http, upstream + "/infer", {"x": 1}, {}, args.calls, args.concurrency, 200
                    )
                    waited = await round_trips(
                        http,
                        f"{url}/v1/calls",
                        {"api_id": api_id, "path": "/infer", "params": {"x": 1}},
                        {"Authorization": f"Bearer {key}", "Prefer": "wait=30"},
                        args.calls,
                        args.concurrency,
                        200,
                    )
            finally:
                proc.terminate()
                await proc.wait()
    finally:
        await runner.cleanup()
    db = "postgresql" if args.database_url else "sqlite"
    print(
        f"database: {db}; {args.calls} calls from {args.concurrency} clients; "
        f"upstream takes {UPSTREAM_LATENCY * 1000:.0f} ms"
    )
    for name, (rate, samples) in (
        ("upstream directly", direct),
        ("Hookline, Prefer: wait", waited),
    ):
        print(
            f"{name:>24}: {rate:6.0f} calls/s, p50 {statistics.median(samples):6.1f} ms, "
            f"p99 {pct(samples, 99):6.1f} ms"
        )
