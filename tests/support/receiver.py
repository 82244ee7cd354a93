"""A real HTTP receiver on 127.0.0.1, port 0, that records what it gets and answers as
a test scripts it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from tests.support.arrivals import Arrivals


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


Script = Callable[[Received, int], Reply]


class Receiver:
    """``script(request, n)`` chooses the reply to the n-th request (0-based)."""

    def __init__(self, script: Script | None = None) -> None:
        self.script: Script = script or (lambda _r, _n: Reply())
        self._arrivals: Arrivals[Received] = Arrivals("receiver")
        self.received = self._arrivals.items
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Requests being answered now, and the most there have been at once.
        self.in_flight = 0
        self.most_in_flight = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> Receiver:
        """Listen on ``port`` (0: any free one; a former receiver's port to bring it back)."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        got = Received(
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.read(),
            at=time.monotonic(),
        )
        n = await self._arrivals.add(got)
        reply = self.script(got, n)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if reply.delay:
                await asyncio.sleep(reply.delay)
        finally:
            self.in_flight -= 1
        return web.Response(status=reply.status, text=reply.body, headers=reply.headers)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least ``count`` requests arrived; fail the test if they do not."""
        return await self._arrivals.wait_for(count, timeout)

    async def quiet(self, seconds: float) -> int:
        """Wait ``seconds`` and return how many requests came in meanwhile."""
        before = len(self.received)
        await asyncio.sleep(seconds)
        return len(self.received) - before
