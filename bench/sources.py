"""Catch-up speed of a chain source: ``python -m bench.sources [--blocks N] [--postgres URL]``.

A local ganache gets a backlog of N blocks, each with a transfer to the watched address
(and as many empty blocks after them); Hookline (API + worker in one process) then
follows it from block 1 with the default settings. Printed: blocks and notifications per
second until the source has processed the head. The receiver is not involved: this
measures following and publishing, not delivery.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from tests.support.evm import Ganache, ensure_installed
from tests.support.server import make_settings, start


async def measure(blocks: int, database_url: str | None) -> None:
    reason = ensure_installed()
    if reason:
        raise SystemExit(reason)
    with tempfile.TemporaryDirectory() as tmp:
        node = await Ganache(Path(tmp) / "ganache.log").start()
        try:
            sender, watched = node.accounts[0], node.accounts[1]
            for i in range(blocks):
                await node.send(sender, watched, i + 1)
            await node.mine(blocks)
            head = await node.head()
            overrides = {"poll_interval": 0.2, "lease_seconds": 20.0, "delivery_timeout": 5.0}
            if database_url:
                overrides["database_url"] = database_url
            hookline = await start(make_settings(Path(tmp), **overrides))
            try:
                client = await hookline.new_account("bench")
                r = await client.post(
                    "/v1/sources",
                    json={
                        "kind": "evm",
                        "name": "bench",
                        "rpc_url": node.url,
                        "poll_interval": 0.2,
                        "start_block": 1,
                    },
                )
                source_id = r.json()["source_id"]
                await client.post(f"/v1/sources/{source_id}/addresses", json={"address": watched})
                began = time.perf_counter()
                while True:
                    health = (await client.get(f"/v1/sources/{source_id}")).json()["health"]
                    if (health["last_processed_block"] or 0) >= head:
                        break
                    await asyncio.sleep(0.05)
                took = time.perf_counter() - began
                events = 0
                cursor = None
                while True:
                    params = {"limit": 250, **({"cursor": cursor} if cursor else {})}
                    page = (await client.get("/v1/events", params=params)).json()
                    events += len(page["data"])
                    cursor = page["next_cursor"]
                    if not cursor:
                        break
                backend = "postgresql" if database_url else "sqlite"
                print(
                    f"{backend}: {head} blocks ({events} notifications) in {took:.1f} s: "
                    f"{head / took:.0f} blocks/s, {events / took:.0f} notifications/s"
                )
            finally:
                await hookline.stop()
        finally:
            await node.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sources", description=__doc__)
    parser.add_argument("--blocks", type=int, default=500, help="blocks with a transfer")
    parser.add_argument("--postgres", help="a PostgreSQL database URL to use instead of SQLite")
    args = parser.parse_args()
    asyncio.run(measure(args.blocks, args.postgres))


if __name__ == "__main__":
    main()
