"""``hookline event-types``: the account's event catalog (names, schemas, examples)."""

from __future__ import annotations

import os
from typing import Any

import typer

from hookline.cli.client import connect
from hookline.cli.login import parse_json
from hookline.cli.output import Column, JsonOpt, LimitOpt, record, table
from hookline.cli.root import app

event_types = typer.Typer(
    no_args_is_help=True, help="Event types: the catalog of what events mean."
)
app.add_typer(event_types, name="event-types")

COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("DESCRIPTION", "description"),
    ("SCHEMA", lambda t: "yes" if t["schema"] is not None else "no"),
    ("ARCHIVED", "archived"),
    ("VERSION", "version"),
    ("UPDATED", "updated_at"),
]

JSON_HELP = "JSON, or @file to read one"
SchemaOpt = typer.Option(None, "--schema", help=f"JSON Schema: {JSON_HELP}")
ExampleOpt = typer.Option(None, "--example", help=f"an example payload: {JSON_HELP}")


def _doc(text: str, what: str) -> Any:
    # A bare path names a file too: `--schema order.json` is the usual way.
    if not text.startswith(("@", "-")) and os.path.isfile(text):
        text = "@" + text
    return parse_json(text, what)


@event_types.command("list")
def list_(
    prefix: str | None = typer.Option(None, help="only names starting with this"),
    include_archived: bool = typer.Option(False, "--all", help="archived ones too"),
    limit: int = LimitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The catalog, by name."""
    items = connect().pages(
        "/v1/event-types",
        limit=limit,
        prefix=prefix,
        include_archived=str(include_archived).lower(),
    )
    table(items, COLUMNS, as_json)


@event_types.command("show")
def show(name: str, as_json: bool = JsonOpt) -> None:
    """One type with its schema and example."""
    record(connect().get(f"/v1/event-types/{name}"), as_json)


@event_types.command("create")
def create(
    name: str,
    description: str = typer.Option("", help="what an event of this type means"),
    schema: str | None = SchemaOpt,
    example: str | None = ExampleOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Register a type; with a schema, events of this type must match it."""
    body: dict[str, Any] = {"name": name, "description": description}
    if schema is not None:
        body["schema"] = _doc(schema, "--schema")
    if example is not None:
        body["example"] = _doc(example, "--example")
    record(connect().post("/v1/event-types", body), as_json)


@event_types.command("update")
def update(
    name: str,
    description: str | None = typer.Option(None, help="a new description"),
    schema: str | None = SchemaOpt,
    no_schema: bool = typer.Option(False, "--no-schema", help="remove the schema"),
    example: str | None = ExampleOpt,
    unarchive: bool = typer.Option(False, "--unarchive", help="bring an archived type back"),
    as_json: bool = JsonOpt,
) -> None:
    """Change the fields given."""
    body: dict[str, Any] = {}
    if description is not None:
        body["description"] = description
    if no_schema:
        body["schema"] = None
    elif schema is not None:
        body["schema"] = _doc(schema, "--schema")
    if example is not None:
        body["example"] = _doc(example, "--example")
    if unarchive:
        body["archived"] = False
    if not body:
        raise typer.BadParameter("nothing to change")
    record(connect().patch(f"/v1/event-types/{name}", body), as_json)


@event_types.command("archive")
def archive(name: str, as_json: bool = JsonOpt) -> None:
    """Archive: it stays readable, new events of this type are refused."""
    record(connect().delete(f"/v1/event-types/{name}"), as_json)
