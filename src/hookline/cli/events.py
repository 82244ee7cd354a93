"""``hookline events``: publish, list, show, and follow events and their attempts."""

from __future__ import annotations

import json
import time
from typing import Any

import typer

from hookline.cli.client import Client, connect
from hookline.cli.login import parse_json
from hookline.cli.output import Column, JsonOpt, LimitOpt, console, note, print_json, record, table
from hookline.cli.root import app

events = typer.Typer(no_args_is_help=True, help="Events: publish them and see them delivered.")
app.add_typer(events, name="events")

COLUMNS: list[Column] = [("ID", "event_id"), ("TYPE", "type"), ("CREATED", "created_at")]
ATTEMPT_COLUMNS: list[Column] = [
    ("DELIVERY", "delivery_id"),
    ("WEBHOOK", "webhook_id"),
    ("STATUS", "status"),
    ("ATTEMPT", "attempt_id"),
    ("AT", "created_at"),
    ("CODE", "status_code"),
    ("MS", "duration_ms"),
    ("ERROR", "error"),
]
FINAL = {"succeeded", "failed", "cancelled"}


@events.command("publish")
def publish(
    event_type: str = typer.Argument(..., metavar="TYPE"),
    data: str = typer.Argument("{}", help="JSON payload; @file reads a file, - stdin"),
    idempotency_key: str | None = typer.Option(None, help="the same key publishes once"),
    deliver_at: str | None = typer.Option(
        None, help="deliver no sooner than this RFC 3339 time, e.g. 2026-12-01T09:00:00Z"
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Publish an event; answered once it and its deliveries are stored."""
    body: dict[str, Any] = {"type": event_type, "data": parse_json(data, "DATA")}
    if idempotency_key:
        body["idempotency_key"] = idempotency_key
    if deliver_at:
        body["deliver_at"] = deliver_at
    record(connect().post("/v1/events", body), as_json)


@events.command("list")
def list_(
    event_type: str | None = typer.Option(None, "--type", help="only this exact type"),
    limit: int = LimitOpt,
    as_json: bool = JsonOpt,
) -> None:
    table(connect().pages("/v1/events", limit=limit, type=event_type), COLUMNS, as_json)


@events.command("show")
def show(event_id: str, as_json: bool = JsonOpt) -> None:
    """The event, its deliveries and every attempt."""
    doc = connect().get(f"/v1/events/{event_id}")
    if as_json:
        print_json(doc)
        return
    record(doc, False, skip=["deliveries"])
    console.print()
    table(_attempt_rows(doc), ATTEMPT_COLUMNS, False)


def _attempt_rows(event: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for d in event["deliveries"]:
        base = {"delivery_id": d["delivery_id"], "webhook_id": d["webhook_id"]}
        if not d["attempts"]:
            rows.append(base | {"status": d["status"]})
        rows += [base | {"status": d["status"]} | a for a in d["attempts"]]
    return rows


@events.command("resend")
def resend(
    event_id: str,
    webhook: str = typer.Option(..., "--webhook", "-w", help="the webhook to send it to"),
    as_json: bool = JsonOpt,
) -> None:
    """Deliver an event again to one webhook, subscribed to it or not."""
    record(connect().post(f"/v1/events/{event_id}/resend", {"webhook_id": webhook}), as_json)


@events.command("tail")
def tail(
    interval: float = typer.Option(0.5, min=0.1, help="seconds between looks"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line"),
) -> None:
    """Follow new events and their delivery attempts as they happen (Ctrl-C stops)."""
    client = connect()
    newest = next(client.pages("/v1/events", limit=1), {}).get("event_id", "")
    following: dict[str, set[str]] = {}  # open event -> attempts already shown
    note("Following new events (Ctrl-C to stop)…")
    try:
        while True:
            fresh = _events_after(client, newest)
            for ev in fresh:
                _emit("event", ev, as_json)
                following[ev["event_id"]] = set()
            if fresh:
                newest = fresh[-1]["event_id"]
            for event_id, shown in list(following.items()):
                doc = client.get(f"/v1/events/{event_id}")
                for d in doc["deliveries"]:
                    for a in d["attempts"]:
                        if a["attempt_id"] not in shown:
                            shown.add(a["attempt_id"])
                            row = {"event_id": event_id, "delivery_id": d["delivery_id"]}
                            _emit("attempt", row | {"webhook_id": d["webhook_id"]} | a, as_json)
                if all(d["status"] in FINAL for d in doc["deliveries"]):
                    del following[event_id]
            time.sleep(interval)
    except KeyboardInterrupt:
        return


def _events_after(client: Client, newest: str) -> list[dict[str, Any]]:
    """Events newer than ``newest``, oldest first."""
    found = []
    for ev in client.pages("/v1/events", limit=None):
        if ev["event_id"] <= newest:
            break
        found.append(ev)
    return found[::-1]


def _emit(kind: str, doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"kind": kind} | doc), flush=True)
    elif kind == "event":
        console.print(f"{doc['created_at']}  [bold]{doc['event_id']}[/]  {doc['type']}")
    else:
        outcome = doc["status_code"] if doc["status_code"] is not None else doc["error"]
        console.print(
            f"{doc['created_at']}    ↳ {doc['delivery_id']} → {doc['webhook_id']}: "
            f"{outcome} in {doc['duration_ms']} ms ({doc['trigger']})"
        )
