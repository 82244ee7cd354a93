"""The bench's receiver: a small HTTP/1.1 server in its own process that counts what
arrives and how late, built directly on ``asyncio`` + ``httptools`` so that it costs as
little CPU as possible (the machine it shares with the sender is the one being measured).

Paths choose the reply, so one receiver serves healthy and unhealthy endpoints at once:

* ``/ok/...``    answers ``200`` at once;
* ``/fail/...``  answers ``500`` at once;
* ``/slow/...``  answers ``200`` after ``--slow`` seconds (longer than a sender's timeout);
* ``GET /_stats`` reports, since the last ``POST /_reset``, arrivals per class and the
  publish-to-receive latency percentiles of healthy arrivals. The latency is ``now -
  data.t``, where ``t`` is the wall-clock time the publisher put in the event's ``data``
  (the time it *meant* to publish, so a late publisher does not hide its lateness).

Run: ``python -m bench.receiver --port 0`` prints ``port N`` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from array import array
from typing import Any

import httptools
import orjson

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
FAIL = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nfail"


def _reply(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


class Tally:
    """What arrived since the last reset."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.counts: dict[str, int] = {"ok": 0, "fail": 0, "slow": 0, "other": 0}
        self.latencies = array("d")
        self.first_at = 0.0
        self.last_at = 0.0
        self.last_by_kind: dict[str, float] = {}

    def arrive(self, kind: str, body: bytes, now: float) -> None:
        self.counts[kind] += 1
        if not self.first_at:
            self.first_at = now
        self.last_at = now
        self.last_by_kind[kind] = now
        if kind != "ok":
            return
        try:
            data = orjson.loads(body).get("data")
            t = data.get("t") if isinstance(data, dict) else None
        except (orjson.JSONDecodeError, AttributeError):
            t = None
        if isinstance(t, int | float) and t > 0:
            self.latencies.append(now - t)

    def report(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            if not lat:
                return None
            return round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000, 3)

        return {
            "counts": self.counts,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "last_by_kind": self.last_by_kind,
            "latency_samples": len(lat),
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "p99_ms": pct(99),
            "max_ms": round(lat[-1] * 1000, 3) if lat else None,
        }


class Connection(asyncio.Protocol):
    def __init__(self, tally: Tally, slow: float) -> None:
        self.tally = tally
        self.slow = slow
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        now = time.time()
        url = self.url
        if url.startswith(b"/ok"):
            self.tally.arrive("ok", b"".join(self.body), now)
            transport.write(OK)
        elif url.startswith(b"/fail"):
            self.tally.arrive("fail", b"", now)
            transport.write(FAIL)
        elif url.startswith(b"/slow"):
            self.tally.arrive("slow", b"", now)
            asyncio.get_running_loop().call_later(self.slow, self._late_ok, transport)
        elif url.startswith(b"/_stats"):
            transport.write(_reply(b"200 OK", orjson.dumps(self.tally.report())))
        elif url.startswith(b"/_reset"):
            self.tally.reset()
            transport.write(_reply(b"200 OK", b"{}"))
        else:
            self.tally.arrive("other", b"", now)
            transport.write(OK)
        if not self.parser.should_keep_alive():
            transport.close()

    @staticmethod
    def _late_ok(transport: asyncio.Transport) -> None:
        if not transport.is_closing():
            transport.write(OK)


async def serve(port: int, slow: float) -> None:
    tally = Tally()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Connection(tally, slow), "127.0.0.1", port, backlog=4096, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    print(f"port {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--slow", type=float, default=30.0, help="delay of /slow replies (s)")
    args = parser.parse_args()
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner, contextlib.suppress(KeyboardInterrupt):
        runner.run(serve(args.port, args.slow))
    sys.exit(0)


if __name__ == "__main__":
    main()
