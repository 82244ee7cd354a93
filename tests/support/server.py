"""Hookline served over real HTTP on 127.0.0.1 port 0 inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from hookline.api.app import create_app
from hookline.api.server import Server
from hookline.config import Settings
from hookline.system import System

ADMIN_KEY = "test-admin-key-0123456789"


@dataclass
class Running:
    system: System
    url: str
    admin: httpx.AsyncClient
    _server: Server
    _task: asyncio.Task[None]

    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, key: str) -> httpx.AsyncClient:
        """A client for this server; closed with it, even when a test fails midway."""
        client = httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        self._clients.append(client)
        return client

    async def new_account(self, name: str = "acme") -> httpx.AsyncClient:
        """A client authenticated as a freshly created account."""
        r = await self.admin.post("/v1/accounts", json={"name": name})
        assert r.status_code == 201, r.text
        return self.client(r.json()["api_key"]["key"])

    async def stop(self) -> None:
        self._server.should_exit = True
        await self._task
        for client in self._clients:
            await client.aclose()
        await self.admin.aclose()
        await self.system.close()


def make_settings(tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": f"sqlite:///{tmp_path / 'hookline.db'}",
        "egress_allow": "127.0.0.0/8",
        "poll_interval": 0.05,
        "delivery_timeout": 2.0,
        "lease_seconds": 10.0,
        "shutdown_grace": 2.0,
        # A connection is not what these tests time: on a loaded machine a new one can take
        # seconds, which the 5 s default would answer with a 503.
        "db_connect_timeout": 30.0,
    }
    values.update(overrides)
    return Settings(**values)


async def start(settings: Settings, *, worker: bool = True) -> Running:
    system = await System.open(settings, admin_key=ADMIN_KEY)
    if worker:
        await system.start_worker()
    url, server, task = await serve(create_app(system))
    admin = httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
    )
    return Running(system=system, url=url, admin=admin, _server=server, _task=task)


async def serve(app: ASGIApp) -> tuple[str, Server, asyncio.Task[None]]:
    """An ASGI application served on 127.0.0.1 port 0: its URL, the server and the task
    serving it (stopped by setting ``server.should_exit`` and awaiting the task)."""
    # TCP named, so the event loop turns Nagle off (src/hookline/cli/server.py, _bind).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    # Signals belong to pytest; the test stops the server itself.
    server = Server(uvicorn.Config(app, lifespan="off", access_log=False, log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    return f"http://127.0.0.1:{port}", server, task


async def settled(client: httpx.AsyncClient, event_id: str, timeout: float = 20.0) -> Any:
    """The event (as GET /v1/events/{id} shows it) once none of its deliveries is
    pending or sending; fails the test if that takes longer than ``timeout``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        detail = (await client.get(f"/v1/events/{event_id}")).json()
        if all(d["status"] not in ("pending", "sending") for d in detail["deliveries"]):
            return detail
        if loop.time() > end:
            raise AssertionError(f"deliveries did not settle: {detail['deliveries']}")
        await asyncio.sleep(0.05)
