"""``hookline deliveries``: delivery logs, and sending deliveries again (one or many)."""

from __future__ import annotations

import time

import typer
from rich.progress import Progress

from hookline.cli.client import ApiError, Client, connect
from hookline.cli.output import (
    Column,
    JsonOpt,
    LimitOpt,
    console,
    errors,
    print_json,
    record,
    table,
)
from hookline.cli.root import app

deliveries = typer.Typer(no_args_is_help=True, help="Deliveries: one event for one webhook.")
app.add_typer(deliveries, name="deliveries")

STATUSES = ["pending", "sending", "succeeded", "failed", "cancelled", "held"]
COLUMNS: list[Column] = [
    ("ID", "delivery_id"),
    ("EVENT", "event_id"),
    ("STATUS", "status"),
    ("ATTEMPTS", "attempt_count"),
    ("LAST CODE", "last_status_code"),
    ("NEXT", "next_attempt_at"),
    ("UPDATED", "updated_at"),
]


def _status(value: str | None) -> str | None:
    if value is not None and value not in STATUSES:
        raise typer.BadParameter(f"one of {', '.join(STATUSES)}")
    return value


@deliveries.command("list")
def list_(
    webhook: str | None = typer.Option(None, "--webhook", "-w", help="only this webhook's"),
    status: str | None = typer.Option(None, callback=_status, help=" | ".join(STATUSES)),
    event_type: str | None = typer.Option(None, help="only deliveries of this event type"),
    event: str | None = typer.Option(None, "--event", help="only this event's"),
    since: str | None = typer.Option(None, help="ISO time: made since then"),
    until: str | None = typer.Option(None, help="ISO time: made before then"),
    limit: int = LimitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The account's deliveries, newest first, filtered by any of the options."""
    items = connect().pages(
        "/v1/deliveries",
        limit=limit,
        status=status,
        webhook_id=webhook,
        event_type=event_type,
        event_id=event,
        since=since,
        until=until,
    )
    table(items, COLUMNS, as_json)


@deliveries.command("show")
def show(delivery_id: str, as_json: bool = JsonOpt) -> None:
    """One delivery and every attempt."""
    record(connect().get(f"/v1/deliveries/{delivery_id}"), as_json)


@deliveries.command("cancel")
def cancel(delivery_id: str, as_json: bool = JsonOpt) -> None:
    """Cancel a pending or held delivery for good (skips the head of a FIFO line)."""
    record(connect().post(f"/v1/deliveries/{delivery_id}/cancel"), as_json)


@deliveries.command("retry")
def retry(
    delivery_ids: list[str] | None = typer.Argument(None, metavar="[DELIVERY_ID]..."),
    webhook: str | None = typer.Option(None, "--webhook", "-w", help="bulk: this webhook's"),
    status: list[str] | None = typer.Option(
        None, "--status", help="bulk: failed (default) | held | succeeded | cancelled; repeatable"
    ),
    event_type: str | None = typer.Option(None, help="bulk: of this event type"),
    since: str | None = typer.Option(None, help="bulk: ISO time, made since then"),
    until: str | None = typer.Option(None, help="bulk: ISO time, made before then"),
    as_json: bool = JsonOpt,
) -> None:
    """Send finished deliveries again now: the ones named (one manual attempt each), or
    in bulk every one matching the filters (the server queues them in the background;
    this follows its progress)."""
    client = connect()
    if delivery_ids:
        _retry_each(client, delivery_ids, as_json)
        return
    for value in status or ():
        _status(value)
    body = {
        "webhook_id": webhook,
        "status": status or "failed",
        "event_type": event_type,
        "since": since,
        "until": until,
    }
    job = client.post("/v1/deliveries/retry", {k: v for k, v in body.items() if v})
    with Progress(console=errors, transient=True, disable=as_json) as bar:
        task = bar.add_task("queueing again", total=job["queued"])
        deadline = time.monotonic() + 600
        while job["finished_at"] is None and time.monotonic() < deadline:
            time.sleep(0.2)
            job = client.get(f"/v1/requeues/{job['requeue_id']}")
            bar.update(task, completed=job["done"])
    if as_json:
        print_json(job)
    else:
        errors.print(f"{job['done']} of {job['queued']} deliveries due again ({job['status']})")


def _retry_each(client: Client, ids: list[str], as_json: bool) -> None:
    done, refused = [], []
    with Progress(console=errors, transient=True, disable=as_json) as bar:
        task = bar.add_task("retrying", total=len(ids))
        for delivery_id in ids:
            try:
                done.append(client.post(f"/v1/deliveries/{delivery_id}/retry"))
            except ApiError as exc:
                refused.append({"delivery_id": delivery_id, "error": exc.message})
            bar.advance(task)
    if as_json:
        print_json({"retried": done, "refused": refused})
    else:
        errors.print(f"{len(done)} deliveries due again now; {len(refused)} refused")
        for r in refused:
            errors.print(f"  {r['delivery_id']}: {r['error']}")
    if refused:
        raise typer.Exit(1)


attempts = typer.Typer(no_args_is_help=True, help="Attempts: one HTTP try of a delivery.")
app.add_typer(attempts, name="attempts")


@attempts.command("show")
def show_attempt(attempt_id: str, as_json: bool = JsonOpt) -> None:
    """One attempt: the exact request sent (signature headers included) and the response
    received, as they went over the wire."""
    doc = connect().get(f"/v1/attempts/{attempt_id}")
    if as_json:
        print_json(doc)
        return
    skip = ("request", "response", "object")
    record({k: v for k, v in doc.items() if k not in skip}, False)
    request, response = doc.get("request"), doc.get("response")
    console.rule("request", align="left")
    if request is None:
        console.print("(not recorded)")
    else:
        console.print(f"{request['method']} {request['url']}", markup=False)
        _http_message(request["headers"], request["body"])
    console.rule("response", align="left")
    if response is None:
        console.print(f"(none: {doc.get('error') or 'no answer'})", markup=False)
    else:
        console.print(f"HTTP {response['status_code']}", markup=False)
        _http_message(response["headers"] or [], response["body"] or "")


def _http_message(headers: list[list[str]], body: str) -> None:
    for name, value in headers:
        console.print(f"{name}: {value}", markup=False, soft_wrap=True)
    console.print()
    console.print(body, markup=False, soft_wrap=True)
