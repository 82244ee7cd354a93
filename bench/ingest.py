"""The bare durable-ingest endpoint: the floor Hookline's single ``POST /v1/events`` is
compared to. A uvicorn + starlette app with one route, ``POST /ingest``, that reads the
body, writes it with exactly one SQLite ``INSERT`` and one commit (WAL mode,
``synchronous=FULL``, so a ``202`` is on disk, as in Hookline) and answers ``202`` with a
tiny JSON body. The database is used from one dedicated thread through one connection:
no group commit, no batching, nothing else per request.

Run: ``python -m bench.ingest --db PATH`` prints ``port N`` once listening (on
127.0.0.1; ``--port 0``, the default, picks a free port). ``run_ingest`` is the client
that saturates it and reads the row count back from the file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import signal
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench import load, procs

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ingested ("
    "id TEXT PRIMARY KEY, body BLOB NOT NULL, received_at REAL NOT NULL)"
)
INSERT = "INSERT INTO ingested (id, body, received_at) VALUES (?, ?, ?)"


class Store:
    """One SQLite connection, used only from one dedicated thread."""

    def __init__(self, path: Path) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._conn: sqlite3.Connection | None = None
        self._thread.submit(self._open, path).result()

    def _open(self, path: Path) -> None:
        conn = sqlite3.connect(path, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the endpoint answers 202 (Hookline's setting).
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(SCHEMA)
        conn.commit()
        self._conn = conn

    def _insert(self, id_: str, body: bytes, received_at: float) -> None:
        assert self._conn is not None
        self._conn.execute(INSERT, (id_, body, received_at))
        self._conn.commit()

    async def insert(self, id_: str, body: bytes, received_at: float) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._insert, id_, body, received_at)

    def close(self) -> None:
        def close() -> None:
            if self._conn is not None:
                self._conn.close()

        self._thread.submit(close).result()
        self._thread.shutdown()


def app(store: Store) -> Starlette:
    async def ingest(request: Request) -> Response:
        body = await request.body()
        id_ = "msg_" + uuid.uuid4().hex
        await store.insert(id_, body, time.time())
        return Response(orjson.dumps({"id": id_}), 202, media_type="application/json")

    return Starlette(routes=[Route("/ingest", ingest, methods=["POST"])])


class _Server(uvicorn.Server):
    """uvicorn with the signals left to :func:`serve`, so the database is closed on the
    way out (uvicorn would re-raise a captured SIGTERM and end the process first)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(db: Path, port: int) -> None:
    store = Store(db)
    try:
        config = uvicorn.Config(
            app(store),
            # The same HTTP parser as `hookline serve` when it is installed.
            http="httptools" if importlib.util.find_spec("httptools") else "h11",
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
        )
        server = _Server(config)

        def stop() -> None:
            server.should_exit = True

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        # TCP named, as `hookline serve` does, so either event loop turns Nagle off.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(2048)
        sock.setblocking(False)
        print(f"port {sock.getsockname()[1]}", flush=True)
        await server.serve(sockets=[sock])
    finally:
        store.close()


async def start(logdir: Path, db: Path, name: str = "ingest") -> tuple[procs.Proc, str]:
    """Start the endpoint as its own process; its process and base URL."""
    proc = procs.start(name, [procs.PYTHON, "-m", "bench.ingest", "--db", str(db)], logdir)
    try:
        m = await procs.wait_for_line(proc, r"port (\d+)")
    except BaseException:
        await proc.stop()
        raise
    return proc, f"http://127.0.0.1:{m.group(1)}"


def count_rows(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT count(*) FROM ingested").fetchone()
        return int(row[0])
    finally:
        conn.close()


async def run_ingest(
    url: str, *, events: int, concurrency: int, db: Path | None = None
) -> dict[str, Any]:
    """Post ``events`` single requests with ``concurrency`` concurrent aiohttp senders,
    each the body a Hookline single publish carries; with ``db``, read back how many
    rows the run stored."""
    before = await asyncio.to_thread(count_rows, db) if db else 0
    target = url + "/ingest"
    sent = ok = errors = 0
    latencies: list[float] = []

    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
        headers={"Content-Type": "application/json"},
        timeout=aiohttp.ClientTimeout(total=120),
    ) as s:

        async def sender() -> None:
            nonlocal sent, ok, errors
            while sent < events:
                seq = sent
                sent += 1
                t = time.time()
                body = orjson.dumps({"type": "bench.tick", "data": load.event(seq, t)})
                began = time.monotonic()
                try:
                    async with s.post(target, data=body) as r:
                        await r.read()
                        if r.status == 202:
                            ok += 1
                            latencies.append(time.monotonic() - began)
                        else:
                            errors += 1
                except (aiohttp.ClientError, TimeoutError):
                    errors += 1

        started = time.monotonic()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        elapsed = max(time.monotonic() - started, 1e-9)
    lat = sorted(latencies)

    def pct(p: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000, 3) if lat else None

    out: dict[str, Any] = {
        "tool": "aiohttp client -> starlette + one SQLite INSERT and commit per request "
        "(WAL, synchronous=FULL)",
        "connections": concurrency,
        "requests": events,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(ok / elapsed, 1),
        "accepted": ok,
        "errors": errors,
        "p50_ms": pct(50),
        "p99_ms": pct(99),
    }
    if db:
        out["rows_stored"] = await asyncio.to_thread(count_rows, db) - before
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="the SQLite file to write")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        runner.run(serve(args.db, args.port))


if __name__ == "__main__":
    main()
