"""uvicorn, with Hookline owning process signals."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn


class Server(uvicorn.Server):
    """A uvicorn server that leaves signals to its caller.

    uvicorn would re-raise a captured SIGTERM once HTTP has stopped, ending the process
    before the delivery worker could finish and release its leases. The CLI installs its
    own handlers that call :meth:`stop`, and shuts the worker down after ``serve``.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def stop(self) -> None:
        self.should_exit = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Streams that would run until their client leaves end now instead, so stopping
        # is not held up by a browser tab left open (uvicorn waits for open responses).
        stopping = getattr(getattr(self.config.app, "state", None), "stopping", None)
        if isinstance(stopping, asyncio.Event):
            stopping.set()
        await super().shutdown(sockets)
