"""The benchmark report states each target against the reference the same run measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import report


def results() -> dict[str, Any]:
    return {
        "ceiling": {
            "python": {"requests_per_second": 8000.0},
            "wrk": {"requests_per_second": 20000.0},
            "ingest": {"requests_per_second": 1600.0, "connections": 32},
        },
        "hookline": {
            "sqlite": {
                "processes": "one serve",
                "deliveries_per_second": 4100.0,
                "throughput_single": {"deliveries_per_second": 800.0},
                "throughput_batch": {"deliveries_per_second": 4100.0},
                "latency": [
                    {
                        "fraction_of_max": 0.5,
                        "p99_ms": 24.0,
                        "p50_ms": 5.0,
                        "offered_deliveries_per_second": 400.0,
                    }
                ],
            },
            "postgres_1w": {"processes": "1 worker", "deliveries_per_second": 1000.0},
            "postgres_2w": {"processes": "2 workers", "deliveries_per_second": 1900.0},
        },
        "peer": {
            "deliveries_per_second": 150.0,
            "settings": {"pool": "threads", "concurrency": 32},
        },
        "fanout": {"endpoints": 1000, "arrived": 1000, "all_arrived_ms": 500.0},
        "backlog": {"worker_peak_rss_mb": 210.0, "pending": 1_000_000},
        "payload": {"copies": 2.5, "rounds": 5},
        "api_scaling": {
            "postgres_1api": {
                "api_processes": 1,
                "publishers": 32,
                "publishes": 20000,
                "errors": 0,
                "publishes_per_second": 1000.0,
            },
            "postgres_2api": {
                "api_processes": 2,
                "publishers": 32,
                "publishes": 20000,
                "errors": 0,
                "publishes_per_second": 1500.0,
            },
        },
    }


def test_each_target_is_judged_against_its_own_reference() -> None:
    rows = {(target, against): met for target, _, against, met in report.targets(results())}
    assert rows == {
        # 800 single publishes/s against 1,600 durable ingests/s: half, missed.
        ("single publish ≥ 1.0x the bare durable-ingest endpoint", "SQLite"): False,
        ("single publish ≥ 5x the Celery peer", "SQLite"): True,
        ("batched publish ≥ 0.5x the raw aiohttp ceiling", "SQLite"): True,
        # 1,000 webhooks in 0.5 s is 2,000/s: a quarter of the ceiling.
        ("fan-out ≥ 0.5x the raw aiohttp ceiling", "SQLite"): False,
        ("p99 publish-to-receive ≤ 25 ms at half of max", "sqlite"): True,
        ("PostgreSQL: 2 worker processes ≥ 1.8x one", "postgres_2w vs postgres_1w"): True,
        # 1,500 against 1,000 accepted publishes/s: 1.5x, missed.
        (
            "PostgreSQL: 2 API processes ≥ 1.8x one (publishes accepted, no worker)",
            "postgres_2api vs postgres_1api",
        ): False,
        ("worker RSS ≤ 200 MB with 1,000,000 pending", "SQLite"): False,
        ("a 512 KB payload costs at most 3 copies in memory", "SQLite"): True,
    }


def test_a_target_whose_reference_was_not_measured_is_left_out() -> None:
    r = results()
    del r["ceiling"]["ingest"]
    targets = [t for t, *_ in report.targets(r)]
    assert not any("durable-ingest" in t for t in targets)
    assert "single publish ≥ 5x the Celery peer" in targets


def test_the_throughput_chart_sets_each_figure_beside_its_reference() -> None:
    bars = report.throughput_bars(results())
    assert [(label, value) for label, value, _ in bars] == [
        ("Hookline SQLite, single publishes", 800.0),
        ("bare durable ingest (reference)", 1600.0),
        ("Celery + Redis peer", 150.0),
        ("Hookline SQLite, batches of 100", 4100.0),
        ("Hookline postgres_1w, batches of 100", 1000.0),
        ("Hookline postgres_2w, batches of 100", 1900.0),
        ("raw aiohttp, no persistence (ceiling)", 8000.0),
        ("wrk, no persistence", 20000.0),
    ]


def test_the_throughput_table_has_the_durable_ingest_row() -> None:
    committed = json.loads((Path(report.__file__).parent / "results" / "latest.json").read_text())
    committed["ceiling"]["ingest"] = results()["ceiling"]["ingest"]
    page = report.render(committed)
    row = next(line for line in page.splitlines() if "bare durable-ingest endpoint (" in line)
    assert "| 1,600 |" in row
    assert "32 single publishers" in row
