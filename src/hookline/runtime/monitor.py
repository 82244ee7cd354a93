"""The worker's own small HTTP server: ``/metrics`` and ``/health``.

``hookline worker`` has no API port, so without this its metrics could not be scraped.
It answers on ``--host`` at ``--metrics-port`` (0: no server).
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hookline import __version__
from hookline.errors import HooklineError
from hookline.runtime.metrics import Metrics


class MonitorServer:
    def __init__(
        self,
        metrics: Metrics,
        *,
        ping: Callable[[], Awaitable[None]],
        alive: Callable[[], bool],
        dialect: str,
    ) -> None:
        self.metrics = metrics
        self._ping = ping
        self._alive = alive
        self._dialect = dialect
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, sock: socket.socket) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/health", self._health)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self.port = sock.getsockname()[1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _health(self, _request: web.Request) -> web.Response:
        """200 while the worker runs and the database answers; 503 otherwise."""
        base = {"version": __version__, "database": self._dialect}
        if not self._alive():
            return web.json_response(
                {**base, "status": "stopped", "code": "worker_stopped"}, status=503
            )
        try:
            await self._ping()
        except HooklineError as exc:
            return web.json_response({**base, "status": "error", "code": exc.code}, status=503)
        return web.json_response({**base, "status": "ok"})
