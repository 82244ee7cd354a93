"""``hookline purge``: remove what is past retention now, through the server (admin key).

The server, not the command, purges: it knows ``HOOKLINE_RETENTION``, holds the lock
that keeps purges from overlapping, and counts what it removes in its metrics.
"""

from __future__ import annotations

from typing import Any

import typer

from hookline.cli.client import connect
from hookline.cli.output import JsonOpt, note, print_json, table
from hookline.cli.root import app


@app.command("purge")
def purge(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="count what would be removed; remove nothing"
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Remove finished deliveries, their attempts and events past HOOKLINE_RETENTION
    now (the worker also does it every HOOKLINE_PURGE_INTERVAL). Needs the admin key."""
    client = connect()
    removed: dict[str, int] = {}
    doc: dict[str, Any] = {}
    while True:
        # Each request purges for a few seconds at most; repeat until it says complete.
        doc = client.post("/v1/admin/purge", {"dry_run": dry_run})
        for name, n in doc["removed"].items():
            removed[name] = removed.get(name, 0) + int(n)
        if doc["complete"]:
            break
        note(f"… {sum(removed.values())} rows so far")
    if as_json:
        print_json(doc | {"removed": removed})
        return
    heading = "WOULD REMOVE" if dry_run else "REMOVED"
    note(f"rows that finished before {doc['cutoff']}:")
    table(
        [{"table": name, "rows": n} for name, n in removed.items()],
        [("TABLE", "table"), (heading, "rows")],
        False,
    )
