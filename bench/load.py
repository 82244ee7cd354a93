"""Load shapes shared by every system under test, and the receiver's tally.

* ``saturate``: publish a fixed number of events as fast as the publisher can (closed
  loop), then count deliveries until all have arrived -> deliveries per second.
* ``open_loop``: publish at a fixed offered rate on a schedule that does not wait for
  the system (so a slow system cannot slow its own load down), each event stamped with
  the time it was *meant* to be published -> publish-to-receive latency percentiles.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

PublishOne = Callable[[dict[str, Any]], Awaitable[None]]
PublishMany = Callable[[Sequence[dict[str, Any]]], Awaitable[None]]
PAD = "x" * 64  # a small but not empty event body


class Receiver:
    """The receiver process's tally, read over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def _call(self, method: str, path: str) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as s,
            s.request(method, self.url + path) as r,
        ):
            result: dict[str, Any] = orjson.loads(await r.read())
            return result

    async def reset(self) -> None:
        await self._call("POST", "/_reset")

    async def stats(self) -> dict[str, Any]:
        return await self._call("GET", "/_stats")

    async def wait_for(
        self, kind: str, count: int, timeout: float, idle: float | None = None
    ) -> dict[str, Any]:
        """Poll until ``count`` arrivals of ``kind``, or ``timeout`` passes, or (with
        ``idle``) nothing new arrived for that long. Returns the last tally."""
        deadline = time.monotonic() + timeout
        last, last_change = -1, time.monotonic()
        while True:
            s = await self.stats()
            n = s["counts"][kind]
            if n >= count or time.monotonic() >= deadline:
                return s
            if n != last:
                last, last_change = n, time.monotonic()
            elif idle is not None and time.monotonic() - last_change > idle:
                return s
            await asyncio.sleep(0.05 if count - n < 1000 else 0.25)


def event(seq: int, t: float) -> dict[str, Any]:
    return {"t": t, "seq": seq, "pad": PAD}


@dataclass
class Throughput:
    events: int
    deliveries: int
    arrived: int
    publish_seconds: float
    seconds: float

    @property
    def per_second(self) -> float:
        return self.arrived / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "deliveries_expected": self.deliveries,
            "deliveries_arrived": self.arrived,
            "publish_seconds": round(self.publish_seconds, 3),
            "seconds": round(self.seconds, 3),
            "deliveries_per_second": round(self.per_second, 1),
            "events_published_per_second": round(self.events / self.publish_seconds, 1)
            if self.publish_seconds
            else None,
        }


async def saturate(
    receiver: Receiver,
    publish_many: PublishMany,
    *,
    events: int,
    fanout: int = 1,
    concurrency: int = 32,
    chunk: int = 1,
    timeout: float = 300.0,
) -> Throughput:
    """Publish ``events`` with ``concurrency`` publishers, ``chunk`` events per call;
    time from the first publish to the last expected arrival."""
    await receiver.reset()
    expected = events * fanout
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for start in range(0, events, chunk):
        now = time.time()
        queue.put_nowait([event(i, now) for i in range(start, min(events, start + chunk))])

    async def publisher() -> None:
        while not queue.empty():
            items = queue.get_nowait()
            t = time.time()
            for d in items:
                d["t"] = t
            await publish_many(items)

    started = time.time()
    await asyncio.gather(*(publisher() for _ in range(concurrency)))
    published = time.time() - started
    s = await receiver.wait_for("ok", expected, timeout, idle=30.0)
    arrived = s["counts"]["ok"]
    end = s["last_by_kind"].get("ok", 0.0) if arrived else time.time()
    return Throughput(events, expected, arrived, published, max(end - started, 1e-9))


async def saturate_sync(
    receiver: Receiver,
    publish_one: Callable[[dict[str, Any]], None],
    *,
    events: int,
    timeout: float = 300.0,
) -> Throughput:
    """The same, for a publisher whose calls block (a Celery producer)."""
    await receiver.reset()

    def run() -> float:
        started = time.time()
        for i in range(events):
            publish_one(event(i, time.time()))
        return started

    t0 = time.time()
    started = await asyncio.to_thread(run)
    published = time.time() - t0
    s = await receiver.wait_for("ok", events, timeout, idle=30.0)
    arrived = s["counts"]["ok"]
    end = s["last_at"] if arrived else time.time()
    return Throughput(events, events, arrived, published, max(end - started, 1e-9))


async def open_loop(
    receiver: Receiver,
    publish_one: PublishOne,
    *,
    rate: float,
    seconds: float,
    fanout: int = 1,
    kind: str = "ok",
    max_in_flight: int = 512,
    drain: float = 30.0,
) -> dict[str, Any]:
    """Offer ``rate`` events/s for ``seconds``; report latency and what was achieved.

    At most ``max_in_flight`` publishes wait for an answer at once; past that the
    schedule slips, and because each event carries its intended time the slip shows
    up in the latency, as it should."""
    await receiver.reset()
    total = max(1, int(rate * seconds))
    sem = asyncio.Semaphore(max_in_flight)
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    async def fire(d: dict[str, Any]) -> None:
        try:
            await publish_one(d)
        finally:
            sem.release()

    mono0, wall0 = loop.time() + 0.05, time.time() + 0.05
    for i in range(total):
        offset = i / rate
        delay = mono0 + offset - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await sem.acquire()
        task = asyncio.create_task(fire(event(i, wall0 + offset)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    slipped = max(0.0, loop.time() - (mono0 + (total - 1) / rate))
    if tasks:
        await asyncio.gather(*tasks)
    expected = total * fanout
    s = await receiver.wait_for(kind, expected, drain, idle=min(10.0, drain / 3))
    arrived = s["counts"][kind]
    # Only arrivals of this kind end the window: a late retry to a failing endpoint
    # must not make the healthy ones look slower.
    window = max(s["last_by_kind"].get(kind, 0.0) - wall0, seconds) if arrived else seconds
    return {
        "offered_events_per_second": round(rate, 1),
        "offered_deliveries_per_second": round(rate * fanout, 1),
        "seconds": seconds,
        "events": total,
        "deliveries_expected": expected,
        "deliveries_arrived": arrived,
        "achieved_deliveries_per_second": round(arrived / window, 1),
        "schedule_slip_seconds": round(slipped, 3),
        "p50_ms": s["p50_ms"],
        "p95_ms": s["p95_ms"],
        "p99_ms": s["p99_ms"],
        "max_ms": s["max_ms"],
    }


def sync_as_async(fn: Callable[[dict[str, Any]], None]) -> PublishOne:
    """Wrap a blocking publish (a Celery ``apply_async``) for the open-loop scheduler;
    it runs inline because each call is short and the loop has nothing else to do."""

    async def publish(d: dict[str, Any]) -> None:
        fn(d)

    return publish
