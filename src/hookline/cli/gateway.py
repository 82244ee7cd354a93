"""``hookline apis``, ``catalog`` and ``calls``: the async API gateway."""

from __future__ import annotations

from typing import Any

import typer

from hookline.cli.client import connect
from hookline.cli.login import parse_json
from hookline.cli.output import Column, JsonOpt, LimitOpt, record, table
from hookline.cli.root import app

apis = typer.Typer(no_args_is_help=True, help="APIs this account lists in the catalog.")
calls = typer.Typer(no_args_is_help=True, help="Async API calls: 202 now, a webhook later.")
app.add_typer(apis, name="apis")
app.add_typer(calls, name="calls")

API_COLUMNS: list[Column] = [
    ("ID", "api_id"),
    ("NAME", "name"),
    ("COMPLETION", "completion"),
    ("PRICE", "price"),
    ("PUBLIC", "public"),
    ("STATUS", "status"),
]
CALL_COLUMNS: list[Column] = [
    ("ID", "request_id"),
    ("API", "api_id"),
    ("STATUS", "status"),
    ("PRICE", "price"),
    ("CREATED", "created_at"),
]


@apis.command("create")
def create_api(
    name: str,
    upstream_url: str,
    completion: str = typer.Option("hold", help="hold | callback"),
    timeout: float = typer.Option(300.0, help="seconds a call may take"),
    price: int = typer.Option(0, help="per call, minor units"),
    public: bool = typer.Option(False, help="listed in the catalog for every account"),
    max_concurrency: int | None = typer.Option(None, help="calls forwarded at once"),
    idempotent: bool = typer.Option(False, help="an interrupted call may be sent again"),
    test_calls: int = typer.Option(0, help="free test calls per consumer"),
    description: str = "",
    as_json: bool = JsonOpt,
) -> None:
    """List an API in the catalog."""
    body = {
        "name": name,
        "upstream_url": upstream_url,
        "completion": completion,
        "timeout": timeout,
        "price": price,
        "public": public,
        "max_concurrency": max_concurrency,
        "idempotent": idempotent,
        "test_calls": test_calls,
        "description": description,
    }
    record(connect().post("/v1/apis", body), as_json)


@apis.command("list")
def list_apis(limit: int = LimitOpt, as_json: bool = JsonOpt) -> None:
    table(connect().pages("/v1/apis", limit=limit), API_COLUMNS, as_json)


@apis.command("show")
def show_api(api_id: str, as_json: bool = JsonOpt) -> None:
    record(connect().get(f"/v1/apis/{api_id}"), as_json)


@apis.command("update")
def update_api(
    api_id: str,
    changes: str = typer.Argument(..., help="JSON object, e.g. '{\"price\": 30}'"),
    as_json: bool = JsonOpt,
) -> None:
    record(connect().patch(f"/v1/apis/{api_id}", parse_json(changes, "CHANGES")), as_json)


@apis.command("pause")
def pause_api(api_id: str, as_json: bool = JsonOpt) -> None:
    """Refuse new calls; queued ones wait for resume."""
    record(connect().post(f"/v1/apis/{api_id}/pause"), as_json)


@apis.command("resume")
def resume_api(api_id: str, as_json: bool = JsonOpt) -> None:
    record(connect().post(f"/v1/apis/{api_id}/resume"), as_json)


@apis.command("delete")
def delete_api(api_id: str, as_json: bool = JsonOpt) -> None:
    """Remove from the catalog; queued calls are cancelled."""
    record(connect().delete(f"/v1/apis/{api_id}"), as_json)


@app.command()
def catalog(
    query: str | None = typer.Argument(None, help="words in the name or description"),
    limit: int = LimitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Public APIs open for calls."""
    table(connect().pages("/v1/catalog", limit=limit, q=query), API_COLUMNS, as_json)


@calls.command("create")
def create_call(
    api_id: str,
    method: str = "POST",
    path: str = "",
    params: str | None = typer.Option(None, help="JSON (query string for GET/DELETE)"),
    body: str | None = typer.Option(None, help="JSON body; @file, - for stdin"),
    webhook_url: str | None = typer.Option(None, help="where the result is delivered"),
    timeout: float | None = None,
    idempotency_key: str | None = None,
    test: bool = typer.Option(False, help="a free test call, if the API offers them"),
    as_json: bool = JsonOpt,
) -> None:
    """Call an API: answered at once with the request id."""
    doc: dict[str, Any] = {"api_id": api_id, "method": method, "path": path, "test": test}
    if params is not None:
        doc["params"] = parse_json(params, "--params")
    if body is not None:
        doc["body"] = parse_json(body, "--body")
    for key, value in (
        ("webhook_url", webhook_url),
        ("timeout", timeout),
        ("idempotency_key", idempotency_key),
    ):
        if value is not None:
            doc[key] = value
    record(connect().post("/v1/calls", doc), as_json)


@calls.command("list")
def list_calls(
    status: str | None = None,
    api: str | None = typer.Option(None, help="only calls of this API"),
    limit: int = LimitOpt,
    as_json: bool = JsonOpt,
) -> None:
    items = connect().pages("/v1/calls", limit=limit, status=status, api_id=api)
    table(items, CALL_COLUMNS, as_json)


@calls.command("show")
def show_call(call_id: str, as_json: bool = JsonOpt) -> None:
    record(connect().get(f"/v1/calls/{call_id}"), as_json)


@calls.command("cancel")
def cancel_call(call_id: str, as_json: bool = JsonOpt) -> None:
    record(connect().post(f"/v1/calls/{call_id}/cancel"), as_json)
