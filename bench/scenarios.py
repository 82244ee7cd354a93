"""The measurements made on a running Hookline: throughput and latency, fan-out, the
failure mix, and the million-delivery backlog."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import hookline, load
from bench.scale import Scale


async def throughput_and_latency(
    dep: hookline.Deployment, rx: load.Receiver, scale: Scale, tag: str
) -> dict[str, Any]:
    """Saturation throughput (batched when the API offers it, and single), then
    latency at fixed fractions of the single-publish maximum."""
    admin = hookline.admin(dep.url)
    acct = await admin.new_account(f"bench-{tag}")
    await admin.close()
    await acct.add_webhooks([f"{rx.url}/ok/{tag}"])
    out: dict[str, Any] = {"batch_api": await acct.detect_batch()}
    n, c = scale.events, scale.publish_concurrency
    if acct.batch:
        t = await load.saturate(rx, acct.publish_many, events=n, concurrency=4, chunk=100)
        out["throughput_batch"] = t.as_dict()
        print(f"  {tag}: batched publish -> {t.per_second:,.0f} deliveries/s", flush=True)

    async def singly(items: Sequence[dict[str, Any]]) -> None:
        for d in items:
            await acct.publish(d)

    t = await load.saturate(rx, singly, events=n, concurrency=c)
    out["throughput_single"] = t.as_dict()
    print(f"  {tag}: single publish  -> {t.per_second:,.0f} deliveries/s", flush=True)
    best = max(out.get("throughput_batch", {}).get("deliveries_per_second", 0), t.per_second)
    out["deliveries_per_second"] = round(best, 1)
    out["latency"] = []
    for f in scale.latency_fractions:
        rate = max(1.0, f * t.per_second)
        r = await load.open_loop(rx, acct.publish, rate=rate, seconds=scale.latency_seconds)
        r["fraction_of_max"] = f
        out["latency"].append(r)
        print(
            f"  {tag}: {rate:,.0f}/s offered ({f:.0%}) -> p50 {r['p50_ms']} ms, "
            f"p99 {r['p99_ms']} ms",
            flush=True,
        )
    out["publish_errors"] = acct.errors
    await acct.close()
    return out


async def fanout(dep: hookline.Deployment, rx: load.Receiver, endpoints: int) -> dict[str, Any]:
    """One event to ``endpoints`` webhooks: time until the last one arrives."""
    admin = hookline.admin(dep.url)
    acct = await admin.new_account("bench-fanout")
    await admin.close()
    made = time.monotonic()
    await acct.add_webhooks([f"{rx.url}/ok/fan/{i}" for i in range(endpoints)])
    setup = time.monotonic() - made
    await rx.reset()
    started = time.time()
    await acct.publish(load.event(0, started))
    published = time.time() - started
    s = await rx.wait_for("ok", endpoints, timeout=120)
    await acct.close()
    arrived = s["counts"]["ok"]
    return {
        "endpoints": endpoints,
        "arrived": arrived,
        "publish_ms": round(published * 1000, 1),
        "first_arrival_ms": round((s["first_at"] - started) * 1000, 1) if arrived else None,
        "all_arrived_ms": round((s["last_at"] - started) * 1000, 1) if arrived else None,
        "webhook_setup_seconds": round(setup, 2),
    }


async def failure_mix(
    dep: hookline.Deployment, rx: load.Receiver, scale: Scale, max_per_second: float
) -> dict[str, Any]:
    """The same offered load to ``n`` healthy webhooks, then to 90% healthy plus 5%
    answering 500 and 5% never answering within the delivery timeout; compare what
    reaches the healthy ones."""
    n = scale.failure_endpoints
    bad = max(2, n // 10)
    healthy = n - bad
    rate = max(1.0, scale.failure_load * max_per_second / n)
    admin = hookline.admin(dep.url)
    results: dict[str, Any] = {
        "endpoints": n,
        "unhealthy": {"answer_500": bad // 2, "time_out": bad - bad // 2},
        "offered_events_per_second": round(rate, 2),
        "offered_deliveries_per_second": round(rate * n, 1),
        "seconds": scale.failure_seconds,
    }
    for case in ("all_healthy", "mixed"):
        acct = await admin.new_account(f"bench-{case}")
        urls = [f"{rx.url}/ok/{case}/{i}" for i in range(healthy)]
        if case == "mixed":
            urls += [f"{rx.url}/fail/{i}" for i in range(bad // 2)]
            urls += [f"{rx.url}/slow/{i}" for i in range(bad - bad // 2)]
        else:
            urls += [f"{rx.url}/ok/{case}/x{i}" for i in range(bad)]
        await acct.add_webhooks(urls)
        r = await load.open_loop(
            rx,
            acct.publish,
            rate=rate,
            seconds=scale.failure_seconds,
            fanout=n,
            drain=max(3.0, scale.failure_seconds * 1.5),
        )
        await acct.close()
        # Healthy deliveries: in the baseline every endpoint is healthy, so scale its
        # count to the same 90% of endpoints for a like-for-like comparison.
        share = healthy / n if case == "all_healthy" else 1.0
        stats = await rx.stats()
        results[case] = {
            "healthy_delivered": round(r["deliveries_arrived"] * share),
            "healthy_expected": r["events"] * healthy,
            "healthy_delivered_share": round(
                r["deliveries_arrived"] * share / max(1, r["events"] * healthy), 4
            ),
            "healthy_deliveries_per_second": round(r["achieved_deliveries_per_second"] * share, 1),
            "healthy_p50_ms": r["p50_ms"],
            "healthy_p99_ms": r["p99_ms"],
            "unhealthy_attempts": stats["counts"]["fail"] + stats["counts"]["slow"],
        }
        print(
            f"  failure mix {case}: healthy {results[case]['healthy_deliveries_per_second']}/s, "
            f"p99 {r['p99_ms']} ms",
            flush=True,
        )
    await admin.close()
    base = results["all_healthy"]["healthy_deliveries_per_second"]
    mixed = results["mixed"]["healthy_deliveries_per_second"]
    results["healthy_throughput_reduction"] = round(1 - mixed / base, 4) if base else None
    return results


async def accept_rate(dep: hookline.Deployment, scale: Scale) -> dict[str, Any]:
    """Single publishes to one webhook, spread evenly over the deployment's API
    processes by ``publish_concurrency`` publishers, with no worker running: how many
    the API processes accept (answer ``202``, so written) per second."""
    admin = hookline.admin(dep.url)
    acct = await admin.new_account("bench-accept")
    await admin.close()
    await acct.add_webhooks(["http://127.0.0.1:9/never-sent"])
    clients = [hookline.Client(u, acct.key) for u in dep.urls]
    for c in clients:  # one connection each first, so the count starts warm
        await c.publish(load.event(-1, 0))
    total = scale.events
    queue = list(range(total))

    async def publisher(c: hookline.Client) -> None:
        while queue:
            await c.publish(load.event(queue.pop(), 0))

    started = time.monotonic()
    await asyncio.gather(
        *(publisher(clients[i % len(clients)]) for i in range(scale.publish_concurrency))
    )
    seconds = time.monotonic() - started
    errors = sum(c.errors for c in clients)
    for c in [*clients, acct]:
        await c.close()
    return {
        "api_processes": len(dep.urls),
        "publishers": scale.publish_concurrency,
        "publishes": total,
        "errors": errors,
        "seconds": round(seconds, 2),
        "publishes_per_second": round((total - errors) / seconds, 1),
    }


async def backlog(
    logdir: Path, datadir: Path, rx: load.Receiver, scale: Scale, env: dict[str, str]
) -> dict[str, Any]:
    """Build ``endpoints x events`` pending deliveries with no worker running (as when
    every receiver or every worker is down), then start one ``hookline worker`` and
    measure how fast it drains them and how much memory it needs."""
    db_file = datadir / "backlog.db"
    url = f"sqlite:///{db_file}"
    api = await hookline.start_serve(
        "backlog", logdir, database_url=url, data_dir=datadir, env=env, with_worker=False
    )
    admin = hookline.admin(api.url)
    acct = await admin.new_account("bench-backlog")
    await admin.close()
    await acct.add_webhooks([f"{rx.url}/ok/backlog/{i}" for i in range(scale.backlog_endpoints)])
    started = time.monotonic()
    queue = list(range(scale.backlog_events))

    async def publisher() -> None:
        while queue:
            i = queue.pop()
            await acct.publish(load.event(i, 0))

    await asyncio.gather(*(publisher() for _ in range(4)))
    build = time.monotonic() - started
    await acct.close()
    await api.stop()
    total = scale.backlog_endpoints * scale.backlog_events
    size = await asyncio.to_thread(_size, datadir, "backlog.db*")
    print(f"  backlog: {total:,} pending built in {build:.0f} s, database {size / 2**20:.0f} MiB")

    await rx.reset()
    settings = {**hookline.BASE_ENV, **env, "HOOKLINE_DATABASE_URL": url}
    settings["HOOKLINE_DATA_DIR"] = str(datadir)
    t0 = time.time()
    worker = await hookline.start_worker("backlog-worker", logdir, settings)
    rss: list[int] = []
    deadline = time.monotonic() + scale.drain_seconds
    s = await rx.stats()
    while time.monotonic() < deadline and s["counts"]["ok"] < total:
        await asyncio.sleep(1.0)
        rss.append(worker.rss_kb())
        worker.sample_peak()
        s = await rx.stats()
    delivered = s["counts"]["ok"]
    elapsed = (s["last_at"] if delivered else time.time()) - t0
    await worker.stop()
    return {
        "pending": total,
        "endpoints": scale.backlog_endpoints,
        "events": scale.backlog_events,
        "build_seconds": round(build, 1),
        "database_bytes": size,
        "drain_window_seconds": round(elapsed, 1),
        "delivered_in_window": delivered,
        "drained_all": delivered >= total,
        "drain_deliveries_per_second": round(delivered / elapsed, 1) if elapsed > 0 else None,
        "first_delivery_seconds": round(s["first_at"] - t0, 2) if delivered else None,
        "worker_peak_rss_mb": round(worker.peak_rss_kb / 1024, 1),
        "worker_rss_mb_samples": [round(k / 1024, 1) for k in rss[:: max(1, len(rss) // 30)]],
    }


def _size(directory: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in directory.glob(pattern))
