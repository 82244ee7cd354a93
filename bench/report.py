"""Turn a results document into docs/benchmarks.md (the results part) and the latency
chart. The prose around the numbers lives in bench/benchmarks.md.in; the run fills in
``{{results}}``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).with_name("benchmarks.md.in")
# The targets of the current performance issue.
TARGET_INGEST = 1.0  # single publish against the bare durable-ingest endpoint
TARGET_PEER = 5.0  # single publish against the Celery peer
TARGET_CEILING = 0.5  # batched publish (and fan-out) against the raw aiohttp ceiling
TARGET_P99_MS = 25.0  # publish-to-receive p99 at half of the single-publish maximum
TARGET_PG_WORKERS = 1.8  # PostgreSQL: two worker processes against one
TARGET_RSS_MB = 200.0  # worker RSS facing the backlog
TARGET_COPIES = 3.0  # resident copies of a 512 KiB event at once


def write(results: dict[str, Any], docs: Path) -> list[Path]:
    docs.mkdir(parents=True, exist_ok=True)
    written = []
    chart = docs / "bench-latency.png"
    if _chart(results, chart):
        written.append(chart)
    bars = docs / "bench-throughput.png"
    if _throughput_chart(results, bars):
        written.append(bars)
    page = docs / "benchmarks.md"
    page.write_text(TEMPLATE.read_text().replace("{{results}}", render(results)))
    written.append(page)
    return written


def _f(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def _share(run: dict[str, Any]) -> str:
    share = run.get("healthy_delivered_share")
    return f"{share:.1%}" if share is not None else "-"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def _times(a: float, b: float) -> str:
    return f"{a / b:.2f}x ({_f(a)} vs {_f(b)} /s)"


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(target, measured, against, met) rows; a row whose figures the results lack is
    left out."""
    rows: list[tuple[str, str, str, bool | None]] = []
    hookline = results.get("hookline", {})
    hl = hookline.get("sqlite", {})
    single = hl.get("throughput_single", {}).get("deliveries_per_second")
    batch = hl.get("throughput_batch", {}).get("deliveries_per_second")
    ceiling = results.get("ceiling", {})
    ingest = ceiling.get("ingest", {}).get("requests_per_second")
    raw = ceiling.get("python", {}).get("requests_per_second")
    peer = results.get("peer", {}).get("deliveries_per_second")

    def against(target: str, a: float | None, b: float | None, on: str, least: float) -> None:
        if a and b:
            rows.append((target, _times(a, b), on, a / b >= least))

    against(
        "single publish ≥ 1.0x the bare durable-ingest endpoint",
        single,
        ingest,
        "SQLite",
        TARGET_INGEST,
    )
    against("single publish ≥ 5x the Celery peer", single, peer, "SQLite", TARGET_PEER)
    against("batched publish ≥ 0.5x the raw aiohttp ceiling", batch, raw, "SQLite", TARGET_CEILING)
    fo = results.get("fanout")
    if fo and fo.get("arrived") and fo.get("all_arrived_ms") and raw:
        rate = fo["arrived"] / (fo["all_arrived_ms"] / 1000)
        rows.append(
            (
                "fan-out ≥ 0.5x the raw aiohttp ceiling",
                f"{_times(rate, raw)}: {_f(fo['arrived'])} of {_f(fo['endpoints'])} webhooks "
                f"in {_f(fo['all_arrived_ms'])} ms",
                "SQLite",
                fo["arrived"] >= fo["endpoints"] and rate / raw >= TARGET_CEILING,
            )
        )
    for label, r in hookline.items():
        half = next((x for x in r.get("latency", []) if x["fraction_of_max"] == 0.5), None)
        if half and half["p99_ms"] is not None:
            rows.append(
                (
                    "p99 publish-to-receive ≤ 25 ms at half of max",
                    f"{_f(half['p99_ms'], 1)} ms at {_f(half['offered_deliveries_per_second'])}/s",
                    label,
                    half["p99_ms"] <= TARGET_P99_MS,
                )
            )
    against(
        "PostgreSQL: 2 worker processes ≥ 1.8x one",
        hookline.get("postgres_2w", {}).get("deliveries_per_second"),
        hookline.get("postgres_1w", {}).get("deliveries_per_second"),
        "postgres_2w vs postgres_1w",
        TARGET_PG_WORKERS,
    )
    apis = results.get("api_scaling", {})
    against(
        "PostgreSQL: 2 API processes ≥ 1.8x one (publishes accepted, no worker)",
        apis.get("postgres_2api", {}).get("publishes_per_second"),
        apis.get("postgres_1api", {}).get("publishes_per_second"),
        "postgres_2api vs postgres_1api",
        TARGET_PG_WORKERS,
    )
    b = results.get("backlog")
    if b:
        rows.append(
            (
                "worker RSS ≤ 200 MB with 1,000,000 pending",
                f"{_f(b['worker_peak_rss_mb'], 1)} MB with {_f(b['pending'])} pending",
                "SQLite",
                b["worker_peak_rss_mb"] <= TARGET_RSS_MB,
            )
        )
    p = results.get("payload")
    if p:
        rows.append(
            (
                "a 512 KB payload costs at most 3 copies in memory",
                f"{_f(p['copies'], 1)} copies at the peak (the worst shape and span)",
                "SQLite",
                p["copies"] <= TARGET_COPIES,
            )
        )
    return rows


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    v = m["versions"]
    out = [
        f"Command: `{results.get('command', 'python -m bench')}` "
        f"({results['scale']['name']} scale, {_f(results.get('seconds'))} s"
        + (f", at commit {m['commit']}" if m.get("commit") else "")
        + ").",
        "",
        f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB memory, "
        f"{m['os']}. Load average when the run began: {m.get('load_average', '-')}.",
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val) + ".",
        "",
        "### Targets",
        "",
        "| target | measured | on | met |",
        "|---|---|---|---|",
    ]
    for target, measured, on, met in targets(results):
        out.append(f"| {target} | {measured} | {on} | {'yes' if met else 'no'} |")
    out += ["", "### Throughput (deliveries per second, end to end)", ""]
    ceiling = results.get("ceiling", {})
    raw = ceiling.get("python", {}).get("requests_per_second")
    wrk = ceiling.get("wrk", {}).get("requests_per_second")
    ingest = ceiling.get("ingest", {}).get("requests_per_second")
    peer = results.get("peer", {}).get("deliveries_per_second")
    out += [
        "| system | deliveries/s | vs wrk | vs raw Python | vs durable ingest | vs Celery peer |",
        "|---|---|---|---|---|---|",
    ]
    if wrk:
        out.append(f"| wrk → receiver (C client, no persistence) | {_f(wrk)} | 1.00x | - | - | - |")
    if raw:
        out.append(
            f"| aiohttp → receiver (raw Python, no persistence) | {_f(raw)} | "
            f"{_ratio(raw, wrk)} | 1.00x | - | - |"
        )
    if ingest:
        n = ceiling["ingest"]["connections"]
        out.append(
            "| aiohttp → bare durable-ingest endpoint (starlette, one SQLite insert and "
            f"commit per request; {n} single publishers) | {_f(ingest)} | "
            f"{_ratio(ingest, wrk)} | {_ratio(ingest, raw)} | 1.00x | - |"
        )
    for label, r in results.get("hookline", {}).items():
        best = r["deliveries_per_second"]
        how = "batched" if "throughput_batch" in r else "single"
        out.append(
            f"| Hookline {label} ({r['processes']}; {how} publish) | {_f(best)} | "
            f"{_ratio(best, wrk)} | {_ratio(best, raw)} | {_ratio(best, ingest)} | "
            f"{_ratio(best, peer)} |"
        )
    if peer:
        s = results["peer"]["settings"]
        out.append(
            f"| Celery + Redis peer ({s['pool']}, concurrency {s['concurrency']}) | "
            f"{_f(peer)} | {_ratio(peer, wrk)} | {_ratio(peer, raw)} | "
            f"{_ratio(peer, ingest)} | 1.00x |"
        )
    out += ["", "### Publish-to-receive latency at fixed offered rates (open loop)", ""]
    out += [
        "| system | offered/s | share of its max | achieved/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    series = [(f"Hookline {k}", r) for k, r in results.get("hookline", {}).items()]
    if "peer" in results:
        series.append(("Celery peer", results["peer"]))
    for name, r in series:
        for x in r.get("latency", []):
            out.append(
                f"| {name} | {_f(x['offered_deliveries_per_second'])} | "
                f"{x['fraction_of_max']:.0%} | {_f(x['achieved_deliveries_per_second'])} | "
                f"{_f(x['p50_ms'], 1)} | {_f(x['p95_ms'], 1)} | {_f(x['p99_ms'], 1)} |"
            )
    if apis := results.get("api_scaling"):
        out += [
            "",
            "### API processes on PostgreSQL",
            "",
            "Single publishes to one webhook with no worker running, spread evenly over "
            "the API processes (`hookline serve --no-worker`, one database): what the API "
            "processes alone accept.",
            "",
            "| API processes | publishers | publishes | accepted/s | errors |",
            "|---|---|---|---|---|",
        ]
        for a in apis.values():
            out.append(
                f"| {a['api_processes']} | {a['publishers']} | {_f(a['publishes'])} | "
                f"{_f(a['publishes_per_second'])} | {a['errors']} |"
            )
    fo = results.get("fanout")
    if fo:
        out += [
            "",
            "### Fan-out",
            "",
            f"One event to {_f(fo['endpoints'])} webhooks (SQLite): publish answered in "
            f"{_f(fo['publish_ms'], 1)} ms, first delivery after {_f(fo['first_arrival_ms'], 1)} "
            f"ms, all {_f(fo['arrived'])} delivered after {_f(fo['all_arrived_ms'], 1)} ms.",
        ]
    b = results.get("backlog")
    if b:
        out += [
            "",
            "### Backlog",
            "",
            f"{_f(b['pending'])} pending deliveries ({_f(b['endpoints'])} webhooks x "
            f"{_f(b['events'])} events) built in {_f(b['build_seconds'])} s; database "
            f"{_f(b['database_bytes'] / 2**20)} MiB. One `hookline worker` then delivered "
            f"{_f(b['delivered_in_window'])} in {_f(b['drain_window_seconds'], 1)} s "
            f"({_f(b['drain_deliveries_per_second'])}/s; first delivery after "
            f"{_f(b['first_delivery_seconds'], 2)} s; "
            f"{'all drained' if b['drained_all'] else 'the window ended before the backlog'}"
            f"). Worker peak RSS: {_f(b['worker_peak_rss_mb'], 1)} MB.",
        ]
    p = results.get("payload")
    if p:
        out += [
            "",
            "### A 512 KiB event",
            "",
            f"Copies of the body resident at once in `hookline serve` (SQLite), peak over "
            f"{p['rounds']} rounds: the serving process's resident high-water mark during the "
            "span less what was resident at its start, over the body's size "
            "(`bench/payload.py` says how).",
            "",
            "| shape | publish (to the 202) | delivery (to the recorded attempt) |",
            "|---|---|---|",
        ]
        for shape, label in (("string", "one 512 KiB string"), ("records", "records")):
            if shape in p:
                s = p[shape]
                out.append(
                    f"| {label} | {_f(s['publish']['copies_max'], 1)} | "
                    f"{_f(s['delivery']['copies_max'], 1)} |"
                )
    fm = results.get("failure_mix")
    if fm:
        base, mixed = fm["all_healthy"], fm["mixed"]
        red = fm["healthy_throughput_reduction"]
        out += [
            "",
            "### Failure mix",
            "",
            f"{fm['endpoints']} webhooks, {_f(fm['offered_deliveries_per_second'])} deliveries/s "
            f"offered for {fm['seconds']} s; in the mixed run "
            f"{fm['unhealthy']['answer_500']} answer 500 and {fm['unhealthy']['time_out']} never "
            "answer within the delivery timeout.",
            "",
            "| run | healthy delivered/s | healthy delivered | healthy p50 ms "
            "| healthy p99 ms | unhealthy attempts |",
            "|---|---|---|---|---|---|",
            f"| all healthy | {_f(base['healthy_deliveries_per_second'])} | "
            f"{_share(base)} | {_f(base['healthy_p50_ms'], 1)} | "
            f"{_f(base['healthy_p99_ms'], 1)} | - |",
            f"| 10% unhealthy | {_f(mixed['healthy_deliveries_per_second'])} | "
            f"{_share(mixed)} | {_f(mixed['healthy_p50_ms'], 1)} | "
            f"{_f(mixed['healthy_p99_ms'], 1)} | {_f(mixed['unhealthy_attempts'])} |",
            "",
            "Reduction of healthy throughput: "
            + (f"{red:.1%}" if red is not None else "-")
            + " (stated bound: at most 10%).",
        ]
    out += ["", "### Configurations", ""]
    for label, r in results.get("hookline", {}).items():
        env = ", ".join(f"`{k}={v}`" for k, v in sorted(r.get("settings", {}).items()))
        out.append(f"- Hookline {label}: {r['processes']}; {env}; every other setting default.")
    if "peer" in results:
        ps = results["peer"]["settings"]
        out.append("- Celery peer: " + "; ".join(f"{k}: `{v}`" for k, v in ps.items()) + ".")
    sc = results["scale"]
    out.append(
        "- Scale: " + ", ".join(f"{k}={v}" for k, v in sc.items() if k != "install_wrk") + "."
    )
    if results.get("skipped"):
        out += ["", "Skipped in this run: "]
        out += [f"- {k}: {why}" for k, why in results["skipped"].items()]
    return "\n".join(out)


def _chart(results: dict[str, Any], path: Path) -> bool:
    if importlib.util.find_spec("matplotlib") is None:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    series = [(f"Hookline {k}", r) for k, r in results.get("hookline", {}).items()]
    if "peer" in results:
        series.append(("Celery + Redis peer", results["peer"]))
    for name, r in series:
        pts = [x for x in r.get("latency", []) if x["p99_ms"] is not None]
        if not pts:
            continue
        xs = [x["offered_deliveries_per_second"] for x in pts]
        (line,) = ax.plot(xs, [x["p99_ms"] for x in pts], marker="o", label=f"{name} p99")
        ax.plot(
            xs,
            [x["p50_ms"] for x in pts],
            marker=".",
            linestyle="--",
            color=line.get_color(),
            label=f"{name} p50",
        )
    ax.axhline(TARGET_P99_MS, color="grey", linewidth=0.8, linestyle=":")
    ax.set_yscale("log")
    ax.set_xlabel("offered deliveries per second (open loop)")
    ax.set_ylabel("publish-to-receive latency (ms)")
    ax.set_title("Latency against offered rate")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def throughput_bars(results: dict[str, Any]) -> list[tuple[str, float, str]]:
    """(label, per second, group) for the throughput chart: each Hookline figure next to
    the reference its target is set against."""
    hookline = results.get("hookline", {})
    ceiling = results.get("ceiling", {})
    bars: list[tuple[str, float, str]] = []

    def add(label: str, value: Any, group: str) -> None:
        if value:
            bars.append((label, float(value), group))

    sqlite = hookline.get("sqlite", {})
    add(
        "Hookline SQLite, single publishes",
        sqlite.get("throughput_single", {}).get("deliveries_per_second"),
        "hookline",
    )
    add(
        "bare durable ingest (reference)",
        ceiling.get("ingest", {}).get("requests_per_second"),
        "reference",
    )
    add("Celery + Redis peer", results.get("peer", {}).get("deliveries_per_second"), "peer")
    add(
        "Hookline SQLite, batches of 100",
        sqlite.get("throughput_batch", {}).get("deliveries_per_second"),
        "hookline",
    )
    for label in ("postgres_1w", "postgres_2w"):
        r = hookline.get(label, {})
        add(f"Hookline {label}, batches of 100", r.get("deliveries_per_second"), "hookline")
    add(
        "raw aiohttp, no persistence (ceiling)",
        ceiling.get("python", {}).get("requests_per_second"),
        "reference",
    )
    add("wrk, no persistence", ceiling.get("wrk", {}).get("requests_per_second"), "reference")
    return bars


def _throughput_chart(results: dict[str, Any], path: Path) -> bool:
    bars = throughput_bars(results)
    if not bars or importlib.util.find_spec("matplotlib") is None:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"hookline": "tab:blue", "reference": "tab:grey", "peer": "tab:orange"}
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(bars) + 1.2), dpi=110)
    ys = list(range(len(bars)))[::-1]
    ax.barh(ys, [b[1] for b in bars], color=[colours[b[2]] for b in bars])
    ax.set_yticks(ys, [b[0] for b in bars], fontsize=8)
    for y, (_, value, _) in zip(ys, bars, strict=True):
        ax.text(value, y, f" {value:,.0f}", va="center", fontsize=7)
    ax.set_xscale("log")
    # Every bar starts at 100/s, so lengths compare; room on the right for the labels.
    ax.set_xlim(100, max(b[1] for b in bars) * 4)
    ax.set_xlabel("deliveries (or requests) per second, log scale")
    ax.set_title("Throughput against the references, one run")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
