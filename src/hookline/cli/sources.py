"""``hookline sources``: chain event sources and the addresses they watch."""

from __future__ import annotations

from typing import Any

import typer

from hookline.cli.client import connect
from hookline.cli.output import Column, JsonOpt, LimitOpt, note, print_json, record, table
from hookline.cli.root import app

sources = typer.Typer(no_args_is_help=True, help="Sources: chains followed for events.")
app.add_typer(sources, name="sources")
addresses = typer.Typer(no_args_is_help=True, help="The addresses a source watches.")
sources.add_typer(addresses, name="addresses")

COLUMNS: list[Column] = [
    ("ID", "source_id"),
    ("KIND", "kind"),
    ("NAME", "name"),
    ("STATUS", "status"),
    ("HEAD", lambda s: s["health"]["head_block"]),
    ("PROCESSED", lambda s: s["health"]["last_processed_block"]),
    ("LAG", lambda s: s["health"]["lag"]),
    ("LAST ERROR", lambda s: s["health"]["last_error"]),
]
ADDRESS_COLUMNS: list[Column] = [
    ("ADDRESS", "address"),
    ("LABEL", "label"),
    ("ADDED", "created_at"),
]


def _confirmations(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected block counts, comma-separated") from None


@sources.command("create")
def create(
    name: str,
    rpc_url: str = typer.Option(..., "--rpc-url", help="the node's JSON-RPC URL"),
    kind: str = typer.Option("evm", help="the chain family"),
    chain_id: int | None = typer.Option(None, help="refuse a node on another chain"),
    confirmations: str | None = typer.Option(None, help="notify at these depths, e.g. 0,1,12"),
    poll_interval: float | None = typer.Option(None, help="seconds between polls"),
    start_block: int | None = typer.Option(None, help="default: the current head"),
    as_json: bool = JsonOpt,
) -> None:
    """Follow a chain from its head (or --start-block)."""
    body: dict[str, Any] = {"kind": kind, "name": name, "rpc_url": rpc_url}
    optional = {
        "chain_id": chain_id,
        "confirmations": _confirmations(confirmations),
        "poll_interval": poll_interval,
        "start_block": start_block,
    }
    body |= {k: v for k, v in optional.items() if v is not None}
    record(connect().post("/v1/sources", body), as_json)


@sources.command("list")
def list_(limit: int = LimitOpt, as_json: bool = JsonOpt) -> None:
    """The account's sources and their health."""
    table(connect().pages("/v1/sources", limit=limit), COLUMNS, as_json)


@sources.command("show")
def show(source_id: str, as_json: bool = JsonOpt) -> None:
    """One source with its health: head, last processed block, lag, last error."""
    record(connect().get(f"/v1/sources/{source_id}"), as_json)


@sources.command("pause")
def pause(source_id: str, as_json: bool = JsonOpt) -> None:
    """Stop following for now; the cursor is kept."""
    record(connect().post(f"/v1/sources/{source_id}/pause"), as_json)


@sources.command("resume")
def resume(source_id: str, as_json: bool = JsonOpt) -> None:
    """Follow again; blocks mined while paused are caught up."""
    record(connect().post(f"/v1/sources/{source_id}/resume"), as_json)


@sources.command("delete")
def delete(source_id: str, as_json: bool = JsonOpt) -> None:
    """Stop following and forget the follow state; published events stay."""
    connect().delete(f"/v1/sources/{source_id}")
    if as_json:
        print_json({"source_id": source_id, "deleted": True})
    else:
        note(f"deleted source {source_id}")


@addresses.command("add")
def add_addresses(
    source_id: str,
    address: list[str] = typer.Argument(..., metavar="ADDRESS..."),
    label: str | None = typer.Option(None, help="a label for every address given"),
    as_json: bool = JsonOpt,
) -> None:
    """Watch one address or many; already watched ones are kept."""
    body = {"addresses": [{"address": a, "label": label} for a in address]}
    doc = connect().post(f"/v1/sources/{source_id}/addresses", body)
    table(doc["data"], ADDRESS_COLUMNS, as_json)


@addresses.command("list")
def list_addresses(source_id: str, limit: int = LimitOpt, as_json: bool = JsonOpt) -> None:
    """The addresses a source watches."""
    items = connect().pages(f"/v1/sources/{source_id}/addresses", limit=limit)
    table(items, ADDRESS_COLUMNS, as_json)


@addresses.command("remove")
def remove_address(source_id: str, address: str, as_json: bool = JsonOpt) -> None:
    """Stop watching an address."""
    connect().delete(f"/v1/sources/{source_id}/addresses/{address}")
    if as_json:
        print_json({"source_id": source_id, "address": address, "removed": True})
    else:
        note(f"no longer watching {address}")
