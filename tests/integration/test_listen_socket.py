"""The socket `hookline serve` listens on answers kept-alive clients without Nagle's delay,
on asyncio's own event loop too (the one it runs on where uvloop is not installed)."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from hookline.cli.server import _bind


async def _hello(_: object) -> PlainTextResponse:
    return PlainTextResponse("hello")


async def test_accepted_connections_have_nagle_off_on_asyncios_loop() -> None:
    loop = asyncio.get_running_loop()
    assert "uvloop" not in type(loop).__module__  # the loop that needs the socket's help
    sock = _bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        Starlette(routes=[Route("/", _hello)]), lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            assert (await reader.readline()).startswith(b"HTTP/1.1 200")
            (connection,) = server.server_state.connections
            transport = connection.transport  # type: ignore[attr-defined]
            accepted = transport.get_extra_info("socket")
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        finally:
            writer.close()
            await writer.wait_closed()
    finally:
        server.should_exit = True
        await task
