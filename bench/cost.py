"""``python -m bench.cost``: what one delivery costs Hookline in CPU time.

Throughput on a shared 2-core machine moves with whatever else runs; the CPU seconds
the ``hookline serve`` process spends per delivered event move much less, so this is
the measure for comparing two versions of the hot path. One SQLite ``serve`` (API and
worker), one webhook without options, a receiver in its own process. Three loads:

- *paced*: single publishes offered at ``--rate`` per second, open loop: the worker
  claims a few deliveries per round, so costs paid once a round weigh the most;
- *single*: single publishes from 32 publishers as fast as they are taken;
- *batched*: batches of 100 from 4 publishers as fast as they are taken.

Each reports deliveries, the serving process's user+system CPU seconds over the load
(from ``/proc``), and CPU milliseconds per delivery. Run it against another checkout by
putting that checkout's ``src`` first on ``PYTHONPATH`` (the child processes inherit it).

``--postgres`` measures the PostgreSQL deployment instead, on a scratch database: one
``hookline serve --no-worker`` and one ``hookline worker``, whose CPU is added up (and
also given per process). The database server's own CPU is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import hookline, load, machine, procs

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def _measure(
    events: int, rate: float, single: int, batched: int, postgres: bool
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hookline-cost-") as tmp:
        work = Path(tmp)
        logdir = work / "logs"
        logdir.mkdir()
        receiver = procs.start(
            "receiver", [procs.PYTHON, "-m", "bench.receiver", "--slow", "30"], logdir
        )
        m = await procs.wait_for_line(receiver, r"port (\d+)")
        rx = load.Receiver(f"http://127.0.0.1:{m.group(1)}")
        try:
            if not postgres:
                dep = await hookline.start_serve(
                    "cost",
                    logdir,
                    database_url=f"sqlite:///{work / 'hookline.db'}",
                    data_dir=work,
                    env={},
                )
                return await _loads(dep, rx, events, rate, single, batched)
            async with machine.scratch_database() as url:
                dep = await hookline.start_split(
                    "cost", logdir, database_url=url, data_dir=work, env={}, workers=1
                )
                return await _loads(dep, rx, events, rate, single, batched)
        finally:
            await receiver.stop()


async def _loads(
    dep: hookline.Deployment,
    rx: load.Receiver,
    events: int,
    rate: float,
    single: int,
    batched: int,
) -> dict[str, Any]:
    """The three loads on a started deployment, which this stops."""
    try:
        admin = hookline.admin(dep.url)
        acct = await admin.new_account("bench-cost")
        await admin.close()
        await acct.add_webhooks([f"{rx.url}/ok/cost"])
        await acct.detect_batch()
        # Warm up: imports, caches, the first connections.
        await load.open_loop(rx, acct.publish, rate=50, seconds=2)
        out: dict[str, Any] = {}
        # On SQLite the serving process is the worker too.
        others = [w for w in dep.workers if w is not dep.api]
        pids = {"api": dep.api.pid} | {f"worker{i + 1}": w.pid for i, w in enumerate(others)}

        def cpu() -> dict[str, float]:
            return {name: cpu_seconds(pid) for name, pid in pids.items()}

        def spent(before: dict[str, float], delivered: int) -> dict[str, Any]:
            now = cpu()
            each = {name: now[name] - before[name] for name in pids}
            total = sum(each.values())
            figures: dict[str, Any] = {
                "cpu_seconds": round(total, 3),
                "cpu_ms_per_delivery": round(1000 * total / max(1, delivered), 3),
            }
            if len(pids) > 1:
                figures["cpu_ms_per_delivery_by_process"] = {
                    name: round(1000 * s / max(1, delivered), 3) for name, s in each.items()
                }
            return figures

        before = cpu()
        r = await load.open_loop(rx, acct.publish, rate=rate, seconds=events / rate)
        out["paced"] = {
            "offered_per_second": rate,
            "delivered": r["deliveries_arrived"],
            **spent(before, r["deliveries_arrived"]),
            "p50_ms": r["p50_ms"],
            "p99_ms": r["p99_ms"],
        }

        async def singly(items: Any) -> None:
            for d in items:
                await acct.publish(d)

        async def saturated(publish: Any, **how: Any) -> dict[str, Any]:
            before = cpu()
            t = await load.saturate(rx, publish, **how)
            return {
                "delivered": t.arrived,
                "deliveries_per_second": round(t.per_second, 1),
                **spent(before, t.arrived),
            }

        out["single"] = await saturated(singly, events=single, concurrency=32)
        out["batched"] = await saturated(
            acct.publish_many, events=batched, concurrency=4, chunk=100
        )
        out["publish_errors"] = acct.errors
        out["processes"] = (
            "hookline serve --no-worker + hookline worker (PostgreSQL)"
            if others
            else "hookline serve (SQLite, API and worker)"
        )
        await acct.close()
        return out
    finally:
        await dep.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__)
    parser.add_argument("--events", type=int, default=3000, help="paced single publishes")
    parser.add_argument("--rate", type=float, default=100.0, help="paced publishes per second")
    parser.add_argument("--single", type=int, default=5000, help="saturating single publishes")
    parser.add_argument("--batched", type=int, default=10000, help="events published in batches")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    parser.add_argument(
        "--postgres", action="store_true", help="PostgreSQL: an API process and a worker"
    )
    args = parser.parse_args()
    began = time.time()
    load_average = os.getloadavg()[0]
    results = asyncio.run(
        _measure(args.events, args.rate, args.single, args.batched, args.postgres)
    )
    results["load_average_at_start"] = load_average
    results["command"] = "python -m bench.cost " + " ".join(sys.argv[1:])
    results["seconds"] = round(time.time() - began, 1)
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
