"""What the retention purge costs on PostgreSQL: ``python -m bench.retention``.

1. A scratch database, migrated; ``hookline serve --no-worker`` as the API, one account
   with one webhook (disabled, so each publish writes an event and a held delivery and
   nothing is sent: the publish path alone is measured).
2. Old history written directly with SQL, as months of traffic would leave it:
   ``--rows`` events 60 days old, each with one finished delivery (1 in 20 failed), one
   attempt and its request body (about 300 bytes). Then ``VACUUM ANALYZE``.
3. Publishing over HTTP at ``--rate`` events/s (open loop) for ``--seconds``: the
   latency without a purge.
4. ``hookline worker`` starts with the default ``HOOKLINE_RETENTION`` (30 days); its
   purge begins at once and removes all of the old history while publishing goes on at
   the same rate; the latency during the purge, and the purge's rows per second, from
   the worker's start to its "purged rows" log line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson

from bench import hookline, procs
from bench.machine import scratch_database

CHUNK = 250_000
MAX_IN_FLIGHT = 256


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def fill(dsn: str, account: str, app: str, endpoint: str, rows: int) -> float:
    """Write ``rows`` old events, finished deliveries, attempts and bodies; seconds taken."""
    conn = await asyncpg.connect(dsn)
    started = time.monotonic()
    try:
        pad = "x" * 200
        # Ids below any real one (real ids begin with the time); 60 days old.
        series = """
            FROM (SELECT i, lpad(i::text, 24, '0') AS n,
                         now() - interval '60 days' + i * interval '1 millisecond' AS t
                  FROM generate_series($1::int, $2::int) AS i) s"""
        body_sha = "encode(sha256(convert_to('body' || i, 'UTF8')), 'hex')"
        for lo in range(1, rows + 1, CHUNK):
            hi = min(rows, lo + CHUNK - 1)
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO messages (id, account_id, app_id, event_type, payload, created_at)"
                    " SELECT 'msg_00' || n, $3, $4, 'bench.old',"
                    " '{\"seq\":' || i || ',\"pad\":\"' || $5 || '\"}', t" + series,
                    lo, hi, account, app, pad,
                )  # fmt: skip
                await conn.execute(
                    "INSERT INTO request_bodies (sha256, body, size, created_at)"
                    f" SELECT {body_sha},"
                    " convert_to('{\"id\":\"msg_00' || n || '\",\"pad\":\"' || $3 || '\"}',"
                    " 'UTF8'), 300, t" + series,
                    lo, hi, pad,
                )  # fmt: skip
                await conn.execute(
                    "INSERT INTO deliveries (id, message_id, endpoint_id, account_id, status,"
                    " attempts, trigger, last_attempt_at, last_status_code, created_at,"
                    " updated_at, event_type, test)"
                    " SELECT 'dlv_00' || n, 'msg_00' || n, $4, $3,"
                    " CASE WHEN i % 20 = 0 THEN 'failed' ELSE 'succeeded' END, 1, 'scheduled',"
                    " t, CASE WHEN i % 20 = 0 THEN 500 ELSE 200 END, t, t, 'bench.old', false"
                    + series,
                    lo, hi, account, endpoint,
                )  # fmt: skip
                await conn.execute(
                    "INSERT INTO attempts (id, delivery_id, endpoint_id, message_id, created_at,"
                    " trigger, status_code, response_body, duration_ms, request_method,"
                    f" request_url, request_body_sha256)"
                    " SELECT 'atmpt_00' || n, 'dlv_00' || n, $3, 'msg_00' || n, t, 'scheduled',"
                    f" 200, 'ok', 12, 'POST', 'http://127.0.0.1:9/', {body_sha}" + series,
                    lo, hi, endpoint,
                )  # fmt: skip
            print(f"  filled {hi:,} of {rows:,}", flush=True)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return time.monotonic() - started


class Publisher:
    """Publishes at a fixed rate (open loop): latency counts from the scheduled time."""

    def __init__(self, url: str, key: str, rate: float) -> None:
        self.session = aiohttp.ClientSession(
            base_url=url,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            connector=aiohttp.TCPConnector(limit=MAX_IN_FLIGHT),
            timeout=aiohttp.ClientTimeout(total=60),
        )
        self.rate = rate
        self.errors = 0
        self.seq = 0

    async def run(
        self, until: asyncio.Event | None, seconds: float | None
    ) -> list[tuple[float, float]]:
        """(scheduled time, latency) of each publish that succeeded."""
        latencies: list[tuple[float, float]] = []
        tasks: set[asyncio.Task[None]] = set()
        sem = asyncio.Semaphore(MAX_IN_FLIGHT)
        start = time.monotonic()
        i = 0

        async def one(scheduled: float) -> None:
            async with sem:
                self.seq += 1
                body = orjson.dumps({"type": "bench.new", "data": {"seq": self.seq}})
                try:
                    async with self.session.post("/v1/events", data=body) as r:
                        await r.read()
                        if r.status != 202:
                            self.errors += 1
                            return
                except (aiohttp.ClientError, TimeoutError):
                    self.errors += 1
                    return
                latencies.append((scheduled, time.monotonic() - scheduled))

        while True:
            if until is not None and until.is_set():
                break
            if seconds is not None and time.monotonic() - start >= seconds:
                break
            scheduled = start + i / self.rate
            delay = scheduled - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            t = asyncio.create_task(one(scheduled))
            tasks.add(t)
            t.add_done_callback(tasks.discard)
            i += 1
        if tasks:
            await asyncio.gather(*tasks)
        return latencies

    async def close(self) -> None:
        await self.session.close()


def _summary(latencies: list[float], seconds: float) -> dict[str, Any]:
    return {
        "publishes": len(latencies),
        "seconds": round(seconds, 1),
        "p50_ms": round(_pct(latencies, 0.50), 1),
        "p99_ms": round(_pct(latencies, 0.99), 1),
    }


async def run(rows: int, rate: float, seconds: float, batch_size: int, workdir: Path) -> None:
    async with scratch_database() as url:
        env = {"HOOKLINE_PURGE_BATCH_SIZE": str(batch_size), "HOOKLINE_PURGE_INTERVAL": "86400"}
        dep = await hookline.start_split(
            "retention", workdir, database_url=url, data_dir=workdir, env=env, workers=0
        )
        worker: procs.Proc | None = None
        try:
            admin = hookline.admin(dep.url)
            acct = await admin._post("/v1/accounts", {"name": "bench"}, 201)
            key = acct["api_key"]["key"]
            client = hookline.Client(dep.url, key)
            hook = await client._post("/v1/webhooks", {"callback_url": "http://127.0.0.1:9/"}, 201)
            async with client.session.patch(
                f"/v1/webhooks/{hook['webhook_id']}", data=orjson.dumps({"active": False})
            ) as r:
                assert r.status == 200, await r.text()
            await client.close()
            await admin.close()
            conn = await asyncpg.connect(url)
            ep = await conn.fetchrow(
                "SELECT account_id, app_id FROM endpoints WHERE id = $1", hook["webhook_id"]
            )
            await conn.close()
            print(f"filling {rows:,} old events with deliveries, attempts, bodies", flush=True)
            fill_s = await fill(url, ep["account_id"], ep["app_id"], hook["webhook_id"], rows)
            print(f"  {fill_s:.0f} s", flush=True)

            admin = hookline.admin(dep.url)
            t = time.monotonic()
            try:
                dry = await admin._post("/v1/admin/purge", {"dry_run": True}, 200)
                print(f"dry run: {dry['removed']} in {time.monotonic() - t:.1f} s", flush=True)
            except RuntimeError as exc:
                print(f"dry run failed after {time.monotonic() - t:.1f} s: {exc}", flush=True)
            await admin.close()

            pub = Publisher(dep.url, key, rate)
            baseline = _summary([lat for _, lat in await pub.run(None, seconds)], seconds)
            print(f"publishing, no purge: {baseline}", flush=True)

            done = asyncio.Event()
            settings = {**dep.settings, "HOOKLINE_LOG_LEVEL": "info"}
            worker = procs.start(
                "retention-worker", hookline._hookline("worker"), workdir, env=settings
            )
            began, ended = [0.0], [0.0]

            async def watch() -> re.Match[str]:
                # The purge starts with the worker: time it from the worker's first line.
                await procs.wait_for_line(worker, r"worker \S+ started", 120)
                began[0] = time.monotonic()
                m = await procs.wait_for_line(worker, r"purged rows older than \S+: (.*)", 7200)
                ended[0] = time.monotonic()
                done.set()
                return m

            watcher = asyncio.create_task(watch())
            published = await pub.run(done, None)
            m = await watcher
            purge_s = ended[0] - began[0]
            during_lat = [lat for at, lat in published if began[0] <= at <= ended[0]]
            await pub.close()
            removed = {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", m.group(1))}
            total = sum(removed.values())
            during = _summary(during_lat, purge_s)
            print(f"publishing during the purge: {during}", flush=True)
            print(f"purge: {removed} in {purge_s:.1f} s", flush=True)
            print(
                f"\n| rows filled | publish rate | p50 / p99 without purge | p50 / p99 during "
                f"purge | rows removed | purge time | rows/s |\n|---|---|---|---|---|---|---|\n"
                f"| {rows:,} events | {rate:g}/s | {baseline['p50_ms']} / {baseline['p99_ms']} ms "
                f"| {during['p50_ms']} / {during['p99_ms']} ms | {total:,} | {purge_s:.0f} s "
                f"| {total / purge_s:,.0f} |"
            )
            print(f"publish errors: {pub.errors}; purge batch size {batch_size}")
            # Other work on the machine shows up in every figure above: say how much.
            one, five, fifteen = os.getloadavg()
            print(f"load average at the end: {one:.1f} (1 min) {five:.1f} (5) {fifteen:.1f} (15)")
        finally:
            if worker is not None:
                await worker.stop()
            await dep.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.retention", description=__doc__)
    parser.add_argument("--rows", type=int, default=3_000_000, help="old events to fill")
    parser.add_argument("--rate", type=float, default=50.0, help="publishes per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="baseline duration")
    parser.add_argument("--batch-size", type=int, default=500, help="HOOKLINE_PURGE_BATCH_SIZE")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20,000 rows")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.seconds = 20_000, 3.0
    workdir = Path(tempfile.mkdtemp(prefix="hookline-bench-retention-"))
    try:
        await run(args.rows, args.rate, args.seconds, args.batch_size, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
