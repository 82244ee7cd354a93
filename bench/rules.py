"""What trigger rules cost the publish path: ``python -m bench.rules``.

Two measurements, each with 1,000 webhooks of 5 rules:

1. *Matching alone*, in this process: the rules of 1,000 webhooks evaluated on one event
   (what :class:`hookline.services.routing.RuleBook` does before the publish transaction).
2. *Publishing*, through a real ``hookline serve --no-worker`` (API only, so only the
   publish path is measured) over HTTP, one publish at a time: an account with 1,000
   webhooks without rules; one whose 1,000 webhooks have 5 rules that all match (every
   rule of every webhook evaluated, the same 1,000 deliveries written: the rules' own
   cost); and one whose rules select 20 of the 1,000 (what rules are for).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import hookline
from hookline.config import Settings
from hookline.domain.rules import RuleIndex, compile_rules
from hookline.services.events import EventInput
from hookline.services.webhooks import WebhookSpec
from hookline.system import System


def rules_for(i: int, *, selective: bool) -> list[dict[str, Any]]:
    """Five rules, one of each kind of work: a path through an array, a list, a decimal
    comparison, a regex, a negation."""
    return [
        {"field": "to.address", "operator": "=", "value": f"addr_{i % 100 if selective else 7}"},
        {"field": "asset_name", "operator": "in", "value": ["RBERRY", "OTHER"]},
        {"field": "quantity", "operator": ">", "value": "5"},
        {"field": "memo", "operator": "regex", "value": r"^payment \d+$"},
        {"field": "network", "operator": "!=", "value": "testnet"},
    ]


def event_data(seq: int) -> dict[str, Any]:
    return {
        "to": [{"address": f"addr_{seq % 100}"}, {"address": "addr_7"}],
        "asset_name": "RBERRY",
        "quantity": "12.5",
        "memo": f"payment {seq}",
        "network": "mainnet",
    }


def matching_alone(webhooks: int, events: int) -> list[dict[str, Any]]:
    """Per event: each webhook's rules evaluated one by one, and the index the publish
    path uses, for selective rules and for rules that all match."""
    datas = [event_data(s) for s in range(events)]
    rows = []
    for selective in (True, False):
        started = time.perf_counter()
        sets = {
            f"ep_{i}": compile_rules(rules_for(i, selective=selective)) for i in range(webhooks)
        }
        compile_ms = (time.perf_counter() - started) / webhooks * 1000
        index = RuleIndex(sets)
        started = time.perf_counter()
        matched = sum(sum(rs.matches(d) for rs in sets.values()) for d in datas)
        scan = (time.perf_counter() - started) / events
        started = time.perf_counter()
        assert sum(len(index.matching(d)) for d in datas) == matched
        indexed = (time.perf_counter() - started) / events
        rows.append(
            {
                "case": "20 of 1,000 match" if selective else "all match",
                "compile_ms_per_webhook": round(compile_ms, 3),
                "scan_ms_per_event": round(scan * 1000, 2),
                "index_ms_per_event": round(indexed * 1000, 2),
                "matched_per_event": matched / events,
            }
        )
    return rows


async def fixed_cost(workdir: Path, publishes: int = 500) -> dict[str, Any]:
    """What every publish pays for rules and schemas even when an account has neither:
    the checks before the transaction (from the per-process caches), next to a whole
    publish, which also verifies the type versions inside its transaction (in this
    process, SQLite, one webhook, no HTTP)."""
    settings = Settings(data_dir=workdir, database_url=f"sqlite:///{workdir / 'fixed.db'}")
    system = await System.open(settings, admin_key="hk_admin_bench_fixed_cost")
    try:
        account, _ = await system.accounts.create_account("fixed")
        app = await system.accounts.default_app_id(account.id)
        await system.webhooks.create(account.id, app, WebhookSpec(url="https://example.com/h"))
        started = time.perf_counter()
        for _ in range(publishes):
            states = await system.event_types.states(account.id, ["t"])
            await system.event_types.gates(account.id, states)
            await system.events.rules.judge(account.id, app, 1, dict)
        checks = (time.perf_counter() - started) / publishes
        event = EventInput("t", b'{"a":1}', data={"a": 1}, has_data=True)
        started = time.perf_counter()
        for _ in range(publishes):
            await system.events.publish_batch(account.id, [event])
        whole = (time.perf_counter() - started) / publishes
    finally:
        await system.close()
    return {"checks_ms": round(checks * 1000, 3), "publish_ms": round(whole * 1000, 3)}


async def publishing(webhooks: int, events: int, workdir: Path) -> list[dict[str, Any]]:
    dep = await hookline.start_serve(
        "rules",
        workdir,
        database_url=f"sqlite:///{workdir / 'hookline.db'}",
        data_dir=workdir,
        env={},
        with_worker=False,
    )
    try:
        admin = hookline.admin(dep.url)
        out = []
        for label, rules in (
            ("no rules", None),
            ("5 rules, all match", False),
            ("5 rules, 20 of 1,000 match", True),
        ):
            made = await admin._post("/v1/accounts", {"name": label}, 201)
            acct_key = made["api_key"]["key"]
            acct = hookline.Client(dep.url, acct_key)

            async def add(i: int, acct: hookline.Client = acct, rules: bool | None = rules) -> None:
                body: dict[str, Any] = {"callback_url": f"http://127.0.0.1:9/{i}"}
                if rules is not None:
                    body["rules"] = rules_for(i, selective=rules)
                await acct._post("/v1/webhooks", body, 201)

            for start in range(0, webhooks, 50):
                await asyncio.gather(*(add(i) for i in range(start, min(webhooks, start + 50))))
            await acct.close()
            # A fresh connection: one left idle during the setup may be closed by the
            # server's keep-alive timeout just as it is reused.
            acct = hookline.Client(dep.url, acct_key, connections=1)
            for warm in range(5):
                await acct._post("/v1/events", {"type": "t", "data": event_data(warm)}, 202)
            latencies, deliveries = [], 0
            for seq in range(events):
                t = time.perf_counter()
                got = await acct._post("/v1/events", {"type": "t", "data": event_data(seq)}, 202)
                latencies.append(time.perf_counter() - t)
                deliveries += got["deliveries"]
            await acct.close()
            latencies.sort()
            row = {
                "case": label,
                "deliveries_per_event": deliveries / events,
                "p50_ms": round(statistics.median(latencies) * 1000, 1),
                "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
                "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
            }
            print(f"  {row}", flush=True)
            out.append(row)
        await admin.close()
        return out
    finally:
        await dep.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rules", description=__doc__)
    parser.add_argument("--webhooks", type=int, default=1000)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    alone = matching_alone(args.webhooks, max(50, args.events))
    for row in alone:
        print(f"matching alone: {row}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="hookline-bench-rules-"))
    try:
        fixed = await fixed_cost(workdir)
        print(f"fixed cost, no rules and no types: {fixed}", flush=True)
        rows = await publishing(args.webhooks, args.events, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\n| matching alone, {args.webhooks} webhooks x 5 rules | scan ms/event | index ms/event |"
    )
    print("|---|---|---|")
    for r in alone:
        print(f"| {r['case']} | {r['scan_ms_per_event']} | {r['index_ms_per_event']} |")
    print(
        f"\nchecks before the transaction: {fixed['checks_ms']} ms of a "
        f"{fixed['publish_ms']} ms publish (in process, no rules, no types)"
    )
    print("\n| publish (SQLite, one at a time) | deliveries/event | p50 ms | p99 ms | mean ms |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['case']} | {r['deliveries_per_event']:g} | {r['p50_ms']} | {r['p99_ms']} "
            f"| {r['mean_ms']} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
