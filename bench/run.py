"""One run of every measurement, in order, into one results document."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ceiling, hookline, ingest, load, machine, payload, peer_run, procs, scenarios
from bench.scale import Scale

# Hookline runs with its defaults except where a setting is needed to run at all here.
SQLITE_ENV: dict[str, str] = {}
# On PostgreSQL the API process wakes the worker processes with NOTIFY; defaults too.
PG_ENV: dict[str, str] = {}


async def run(scale: Scale, *, only: set[str] | None = None) -> dict[str, Any]:
    def wanted(part: str) -> bool:
        return only is None or part in only

    began = time.time()
    wrk, wrk_note = ceiling.find_wrk(install=scale.install_wrk)
    results: dict[str, Any] = {
        "scale": scale.as_dict(),
        "machine": machine.describe(wrk),
        "skipped": {},
    }
    results["machine"]["versions"]["postgresql"] = await machine.postgres_version()
    with tempfile.TemporaryDirectory(prefix="hookline-bench-") as tmp:
        work = Path(tmp)
        logdir = work / "logs"
        logdir.mkdir()
        receiver = procs.start(
            "receiver", [procs.PYTHON, "-m", "bench.receiver", "--slow", "30"], logdir
        )
        m = await procs.wait_for_line(receiver, r"port (\d+)")
        rx = load.Receiver(f"http://127.0.0.1:{m.group(1)}")
        try:
            await _measure(scale, results, wanted, work, logdir, rx, wrk, wrk_note)
        except BaseException:
            print(f"bench failed; logs were in {logdir}:")
            for log in sorted(logdir.glob("*.log")):
                print(f"--- {log.name}\n{procs.tail_file(log, 15)}")
            raise
        finally:
            await receiver.stop()
    results["seconds"] = round(time.time() - began, 1)
    return results


async def _measure(
    scale: Scale,
    results: dict[str, Any],
    wanted: Any,
    work: Path,
    logdir: Path,
    rx: load.Receiver,
    wrk: str | None,
    wrk_note: str,
) -> None:
    skipped = results["skipped"]
    conns = scale.ceiling_connections
    if wanted("ceiling"):
        print("ceiling", flush=True)
        results["ceiling"] = {}
        if wrk:
            c = await ceiling.run_wrk(
                wrk, rx, work, seconds=max(1, int(scale.ceiling_seconds)), connections=conns
            )
            results["ceiling"]["wrk"] = c | {"note": wrk_note}
            print(f"  wrk: {c['requests_per_second']:,.0f} POST/s", flush=True)
        else:
            skipped["wrk"] = wrk_note
            print(f"  wrk skipped: {wrk_note}", flush=True)
        c = await ceiling.run_python(rx, seconds=scale.ceiling_seconds, connections=conns)
        results["ceiling"]["python"] = c
        print(f"  raw Python (aiohttp): {c['requests_per_second']:,.0f} POST/s", flush=True)
        # The reference for Hookline's single publish: the same publishes, each one
        # durable SQLite write before its 202, with nothing else done.
        db = work / "ingest" / "ingest.db"
        db.parent.mkdir()
        server, url = await ingest.start(logdir, db)
        try:
            c = await ingest.run_ingest(
                url, events=scale.events, concurrency=scale.publish_concurrency, db=db
            )
        finally:
            await server.stop()
        results["ceiling"]["ingest"] = c
        print(
            f"  bare durable ingest (starlette + SQLite): {c['requests_per_second']:,.0f} "
            f"POST/s, {c['rows_stored']:,} of {c['requests']:,} stored, {c['errors']} errors",
            flush=True,
        )

    results["hookline"] = {}
    if wanted("sqlite") or wanted("fanout") or wanted("failures"):
        print("hookline on SQLite (hookline serve: API + worker in one process)", flush=True)
        d = work / "sqlite"
        dep = await hookline.start_serve(
            "sqlite",
            logdir,
            database_url=f"sqlite:///{d / 'hookline.db'}",
            data_dir=d,
            env=SQLITE_ENV,
        )
        try:
            r = await scenarios.throughput_and_latency(dep, rx, scale, "sqlite")
            r["processes"] = "hookline serve (API + worker)"
            r["settings"] = _shown(dep.settings)
            results["hookline"]["sqlite"] = r
            if wanted("fanout"):
                print("fan-out", flush=True)
                results["fanout"] = await scenarios.fanout(dep, rx, scale.fanout_endpoints)
                print(f"  {results['fanout']}", flush=True)
            if wanted("failures"):
                print("failure mix", flush=True)
                results["failure_mix"] = await scenarios.failure_mix(
                    dep, rx, scale, r["throughput_single"]["deliveries_per_second"]
                )
            for w in dep.workers:
                w.sample_peak()
            r["process_peak_rss_mb"] = round(dep.api.peak_rss_kb / 1024, 1)
        finally:
            await dep.stop()

    if wanted("postgres"):
        version = results["machine"]["versions"].get("postgresql")
        if version is None:
            skipped["postgres"] = f"PostgreSQL not reachable at {machine.PG_ADMIN_DSN}"
            print(f"postgres skipped: {skipped['postgres']}", flush=True)
        else:
            for workers in (1, 2):
                label = f"postgres_{workers}w"
                print(f"hookline on PostgreSQL (API process + {workers} worker processes)")
                async with machine.scratch_database() as url:
                    dep = await hookline.start_split(
                        label,
                        logdir,
                        database_url=url,
                        data_dir=work / label,
                        env=PG_ENV,
                        workers=workers,
                    )
                    try:
                        r = await scenarios.throughput_and_latency(dep, rx, scale, label)
                        r["processes"] = f"hookline serve --no-worker + {workers} x hookline worker"
                        r["settings"] = _shown(dep.settings)
                        r["worker_peak_rss_mb"] = [
                            round(w.sample_peak() / 1024, 1) for w in dep.workers
                        ]
                        results["hookline"][label] = r
                    finally:
                        await dep.stop()

            for apis in (1, 2):
                label = f"postgres_{apis}api"
                print(
                    f"hookline on PostgreSQL ({apis} API processes, no worker): publishes accepted"
                )
                async with machine.scratch_database() as url:
                    dep = await hookline.start_split(
                        label,
                        logdir,
                        database_url=url,
                        data_dir=work / label,
                        env=PG_ENV,
                        workers=0,
                        apis=apis,
                    )
                    try:
                        r = await scenarios.accept_rate(dep, scale)
                    finally:
                        await dep.stop()
                results.setdefault("api_scaling", {})[label] = r
                print(
                    f"  {label}: {r['publishes_per_second']:,.0f} publishes/s accepted", flush=True
                )

    if wanted("peer"):
        why = peer_run.available()
        if why:
            skipped["peer"] = why
            print(f"Celery peer skipped: {why}", flush=True)
        else:
            print("peer: Celery + Redis", flush=True)
            results["peer"] = await _peer(scale, logdir, rx)

    if wanted("payload"):
        print("a 512 KiB event", flush=True)
        d = work / "payload"
        d.mkdir()
        results["payload"] = await payload.measure(
            logdir,
            d,
            rx,
            database_url=f"sqlite:///{d / 'hookline.db'}",
            kb=512,
            rounds=scale.payload_rounds,
        )

    if wanted("backlog"):
        print("backlog", flush=True)
        results["backlog"] = await scenarios.backlog(logdir, work / "backlog", rx, scale, {})
        b = results["backlog"]
        print(
            f"  drained {b['delivered_in_window']:,} in {b['drain_window_seconds']} s "
            f"({b['drain_deliveries_per_second']}/s), worker peak RSS "
            f"{b['worker_peak_rss_mb']} MB",
            flush=True,
        )


async def _peer(scale: Scale, logdir: Path, rx: load.Receiver) -> dict[str, Any]:
    worker = await peer_run.start_worker(logdir)
    try:
        publish = peer_run.producer(rx.url)
        t = await load.saturate_sync(rx, publish, events=scale.peer_events)
        print(f"  peer: {t.per_second:,.0f} deliveries/s", flush=True)
        out: dict[str, Any] = {
            "settings": peer_run.settings(),
            "throughput": t.as_dict(),
            "deliveries_per_second": round(t.per_second, 1),
            "latency": [],
        }
        for f in scale.latency_fractions:
            rate = max(1.0, f * t.per_second)
            r = await load.open_loop(
                rx, load.sync_as_async(publish), rate=rate, seconds=scale.latency_seconds
            )
            r["fraction_of_max"] = f
            out["latency"].append(r)
            print(
                f"  peer: {rate:,.0f}/s offered ({f:.0%}) -> p50 {r['p50_ms']} ms, "
                f"p99 {r['p99_ms']} ms",
                flush=True,
            )
        return out
    finally:
        await worker.stop()


def _shown(settings: dict[str, str]) -> dict[str, str]:
    hidden = {"HOOKLINE_ADMIN_KEY", "HOOKLINE_DATA_DIR"}
    return {k: v for k, v in settings.items() if k not in hidden}
