"""uvicorn, with Hookline owning process signals."""

from __future__ import annotations

import contextlib
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
