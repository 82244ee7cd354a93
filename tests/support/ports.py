"""Ports for processes a test starts that must be told their port before binding it.

A port found by binding port 0 and closing the socket can be handed out again by the
kernel, to any other ``bind(0)`` or outgoing connection, before the child process binds
it; with tests running in several processes at once, that happens. Ports below the
kernel's ephemeral range are never handed out that way, so :func:`free_port` picks one
there, checks that it is free, and draws from a slice of its own per test process so
that two processes do not pick the same one.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

LOWEST = 10_000
SLICES = 16
_given: set[int] = set()


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port() -> int:
    """A free port on 127.0.0.1 that no other test or connection will be given."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    size = (max(_ephemeral_start(), LOWEST + SLICES) - LOWEST) // SLICES
    low = LOWEST + (int(worker) % SLICES if worker.isdigit() else 0) * size
    for _ in range(1000):
        port = random.randrange(low, low + size)
        if port in _given:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free port in {low}-{low + size}")
