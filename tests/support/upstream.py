"""A real API upstream on 127.0.0.1, port 0, for gateway tests: it records requests,
counts how many it holds at once, and answers as the test's handler decides (which
may wait on an event the test sets, answer slowly, fail, or never answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from tests.support.arrivals import Arrivals


@dataclass
class Got:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


# handler(request, n) -> (status, JSON body, extra headers)
Handler = Callable[[Got, int], Awaitable[tuple[int, Any, dict[str, str]]]]


async def ok(_got: Got, _n: int) -> tuple[int, Any, dict[str, str]]:
    return 200, {"answer": 42}, {}


async def stuck(_got: Got, _n: int) -> tuple[int, Any, dict[str, str]]:
    """Never answers: the request stays open until it is aborted or the server stops."""
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


class Upstream:
    def __init__(self, handler: Handler = ok) -> None:
        self.handler = handler
        self._arrivals: Arrivals[Got] = Arrivals("upstream")
        self.received = self._arrivals.items
        self.in_flight = 0
        self.max_in_flight = 0
        self.aborted = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Upstream:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        got = Got(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.read(),
        )
        n = await self._arrivals.add(got)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            status, body, headers = await self.handler(got, n)
        except asyncio.CancelledError:
            self.aborted += 1
            raise
        finally:
            self.in_flight -= 1
        return web.Response(
            status=status, body=orjson.dumps(body), content_type="application/json", headers=headers
        )

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Got]:
        return await self._arrivals.wait_for(count, timeout)
