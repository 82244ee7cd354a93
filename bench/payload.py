"""``python -m bench.payload``: how many copies of a large event Hookline holds at once.

One ``hookline serve`` (API and worker; SQLite unless ``--database-url``), one webhook,
the bench's receiver in its own process; the publisher is this process, so its own
copies are not counted. An event whose body is ``--kb`` KiB (512 by default) is
published in two shapes:

- *one string*: ``data`` holds a single string of that size;
- *records*: ``data`` holds a list of small objects (about 230 bytes each), as a page
  of API results would; parsed, such a body takes more memory than its bytes.

over two spans, each measured ``--rounds`` times after two warm-up rounds:

- *publish*: from the request to its ``202``, with an event type no webhook takes, so
  nothing is sent: reading, checking, parsing and storing it;
- *delivery*: from the request until the webhook's delivery has succeeded (its attempt
  recorded): all of the above, plus the send, its signature and the recorded request.

A span's figure is the serving process's peak resident memory during the span (the
kernel's high-water mark, reset through ``/proc/PID/clear_refs`` at the span's start)
less what was resident at its start, divided by the body's size: the payload-sized
copies resident at the same moment, wherever they are (Python's objects, the
database's page cache, the socket buffers). The process runs with
``MALLOC_MMAP_THRESHOLD_=65536``, so that every large allocation has pages of its own
and gives them back when freed: residence then follows what is alive, and a buffer
reserved but never written (orjson reserves several times a string's size to encode
it) costs nothing, as in any process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench import hookline, load, procs

SHAPES = ("string", "records")
WARMUP_ROUNDS = 2


def body(shape: str, size: int, event_type: str) -> bytes:
    """A ``POST /v1/events`` body of about ``size`` bytes."""
    envelope: dict[str, Any] = {"type": event_type, "data": {}}
    overhead = len(orjson.dumps(envelope)) + len('"x":""')
    if shape == "string":
        envelope["data"] = {"x": "a" * (size - overhead)}
    else:
        records: list[dict[str, Any]] = []
        used = overhead
        while used < size:
            r = {"id": len(records), "status": "settled", "amount": 1234, "note": "n" * 180}
            used += len(orjson.dumps(r)) + 1
            records.append(r)
        envelope["data"] = {"x": records}
    return orjson.dumps(envelope)


class Resident:
    """The serving process's resident memory: each :meth:`mark` resets the kernel's
    high-water mark (``/proc/PID/clear_refs``) and says what is resident now;
    :meth:`peak` is the high-water mark since."""

    def __init__(self, proc: procs.Proc) -> None:
        self.proc = proc

    def mark(self) -> int:
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")
        return self.proc.rss_kb() * 1024

    def peak(self) -> int:
        return procs.status_kb(self.proc.pid, "VmHWM") * 1024


async def _publish(session: aiohttp.ClientSession, data: bytes) -> str:
    async with session.post("/v1/events", data=data) as r:
        raw = await r.read()
        if r.status != 202:
            raise RuntimeError(f"POST /v1/events -> {r.status}: {raw[:300]!r}")
        return str(orjson.loads(raw)["event_id"])


async def _recorded(session: aiohttp.ClientSession, event_id: str) -> None:
    """Until the event's one delivery has succeeded (its attempt is recorded then)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        async with session.get("/v1/deliveries", params={"event_id": event_id}) as r:
            page = orjson.loads(await r.read())
        if page["data"] and page["data"][0]["status"] == "succeeded":
            return
        await asyncio.sleep(0.02)
    raise RuntimeError(f"the delivery of {event_id} did not succeed within 60 s")


async def measure(
    logdir: Path, work: Path, rx: load.Receiver, *, database_url: str, kb: int, rounds: int
) -> dict[str, Any]:
    """Copies per span and shape on one traced ``hookline serve``."""
    # Every allocation of 64 KiB or more gets pages of its own, given back when freed,
    # so residence follows what is alive, and a buffer reserved but never written
    # costs nothing, as in any process.
    env = {"MALLOC_MMAP_THRESHOLD_": str(64 * 1024)}
    dep = await hookline.start_serve(
        "payload", logdir, database_url=database_url, data_dir=work, env=env
    )
    resident = Resident(dep.api)
    size = kb * 1024
    out: dict[str, Any] = {"body_bytes": size, "rounds": rounds}
    try:
        url = dep.url
        admin = hookline.admin(url)
        acct = await admin.new_account("bench-payload")
        await admin.close()
        session = acct.session
        hook = {"callback_url": f"{rx.url}/ok/payload", "events": ["bench.large"]}
        async with session.post("/v1/webhooks", data=orjson.dumps(hook)) as r:
            if r.status != 201:
                raise RuntimeError(f"POST /v1/webhooks -> {r.status}: {await r.text()}")
        for shape in SHAPES:
            spans: dict[str, list[float]] = {"publish": [], "delivery": []}
            for span in spans:
                data = body(shape, size, "bench.large" if span == "delivery" else "bench.unsent")
                for i in range(WARMUP_ROUNDS + rounds):
                    start = resident.mark()
                    event_id = await _publish(session, data)
                    if span == "delivery":
                        await _recorded(session, event_id)
                    if i >= WARMUP_ROUNDS:
                        spans[span].append((resident.peak() - start) / len(data))
            out[shape] = {
                "body_bytes": len(data),
                **{
                    span: {
                        "copies_max": round(max(v), 2),
                        "copies_median": round(statistics.median(v), 2),
                    }
                    for span, v in spans.items()
                },
            }
            print(
                f"  {shape}: publish {out[shape]['publish']['copies_max']} copies, "
                f"delivery {out[shape]['delivery']['copies_max']} (of a {len(data):,}-byte body)",
                flush=True,
            )
        await session.close()
    finally:
        await dep.stop()
    out["copies"] = max(
        out[s][span]["copies_max"] for s in SHAPES for span in ("publish", "delivery")
    )
    return out


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hookline-payload-") as tmp:
        work = Path(tmp)
        logdir = work / "logs"
        logdir.mkdir()
        receiver = procs.start("receiver", [procs.PYTHON, "-m", "bench.receiver"], logdir)
        try:
            m = await procs.wait_for_line(receiver, r"port (\d+)")
            rx = load.Receiver(f"http://127.0.0.1:{m.group(1)}")
            url = args.database_url or f"sqlite:///{work / 'hookline.db'}"
            return await measure(logdir, work, rx, database_url=url, kb=args.kb, rounds=args.rounds)
        finally:
            await receiver.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.payload", description=__doc__)
    parser.add_argument("--kb", type=int, default=512, help="the body's size in KiB")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per span")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    args = parser.parse_args()
    result = asyncio.run(_main(args))
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
