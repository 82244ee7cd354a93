"""Printing answers: rich tables for people, ``--json`` for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

JsonOpt = typer.Option(False, "--json", help="print the API's JSON instead of a table")
LimitOpt = typer.Option(50, "--limit", min=1, help="at most this many items")

# A column: its heading and the field it shows (or a function of the item).
Column = tuple[str, str | Callable[[dict[str, Any]], Any]]

# Piped output keeps one row per line (for grep and friends) instead of folding at 80.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 240)
errors = Console(stderr=True, highlight=False)


def print_json(doc: Any) -> None:
    print(json.dumps(doc, indent=2, ensure_ascii=False), flush=True)


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def table(items: Iterable[dict[str, Any]], columns: Sequence[Column], as_json: bool) -> None:
    rows = list(items)
    if as_json:
        print_json(rows)
        return
    t = Table(box=None, pad_edge=False, header_style="bold")
    for n, (heading, _) in enumerate(columns):
        t.add_column(heading, overflow="fold", no_wrap=n == 0)  # ids stay whole
    for item in rows:
        t.add_row(*(cell(f(item) if callable(f) else item.get(f)) for _, f in columns))
    console.print(t)


def record(doc: dict[str, Any], as_json: bool, *, skip: Sequence[str] = ()) -> None:
    """One object: its JSON, or one line per field."""
    if as_json:
        print_json(doc)
        return
    t = Table(box=None, show_header=False, pad_edge=False)
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    for key, value in doc.items():
        if key not in skip and key != "object":
            t.add_row(key, cell(value))
    console.print(t)


def note(message: str) -> None:
    """Say something to the person at the terminal, out of the way of piped output."""
    errors.print(message)
