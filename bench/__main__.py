"""``python -m bench`` runs every measurement and writes the results and the report;
``python -m bench --quick`` runs the same code with tiny counts as a smoke test."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import signal
import sys
from pathlib import Path

from bench import report, run
from bench.scale import FULL, QUICK

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("ceiling", "sqlite", "fanout", "failures", "postgres", "peer", "backlog", "payload")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # so every child process is stopped on the way out


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts; a smoke test")
    parser.add_argument(
        "--only", action="append", choices=PARTS, help="run only these parts (repeatable)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="results JSON (default: bench/results/latest.json; quick.json with --quick, "
        "partial.json with --only)",
    )
    parser.add_argument(
        "--no-report", action="store_true", help="do not rewrite docs/benchmarks.md and the chart"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: rewrite docs/benchmarks.md and the chart from the results JSON",
    )
    args = parser.parse_args()
    if args.report_only:
        source = args.out or ROOT / "bench" / "results" / "latest.json"
        written = report.write(json.loads(source.read_text()), ROOT / "docs")
        print("report: " + ", ".join(str(p.relative_to(ROOT)) for p in written))
        return
    scale = QUICK if args.quick else FULL
    # Only a full run of every part replaces the committed results.
    name = "quick" if args.quick else "partial" if args.only else "latest"
    out = args.out or ROOT / "bench" / "results" / f"{name}.json"
    command = "python -m bench" + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:])
    print(f"{command}: {scale.name} run", flush=True)
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        results = runner.run(run.run(scale, only=set(args.only) if args.only else None))
    results["command"] = command
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {out} ({results['seconds']} s)")
    if not args.quick and not args.no_report and not args.only:
        written = report.write(results, ROOT / "docs")
        print("report: " + ", ".join(str(p.relative_to(ROOT)) for p in written))


if __name__ == "__main__":
    main()
