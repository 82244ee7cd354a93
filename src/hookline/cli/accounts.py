"""``hookline accounts``, ``keys`` and ``balance``."""

from __future__ import annotations

import typer

from hookline.cli.client import connect
from hookline.cli.output import Column, JsonOpt, LimitOpt, record, table
from hookline.cli.root import app

accounts = typer.Typer(no_args_is_help=True, help="Accounts (creating and listing: admin key).")
keys = typer.Typer(no_args_is_help=True, help="The account's API keys.")
app.add_typer(accounts, name="accounts")
app.add_typer(keys, name="keys")

ACCOUNT_COLUMNS: list[Column] = [("ID", "account_id"), ("NAME", "name"), ("CREATED", "created_at")]
KEY_COLUMNS: list[Column] = [
    ("ID", "key_id"),
    ("NAME", "name"),
    ("PREFIX", "prefix"),
    ("CREATED", "created_at"),
    ("REVOKED", "revoked_at"),
]


@accounts.command("create")
def create_account(name: str, as_json: bool = JsonOpt) -> None:
    """Create an account; its first API key is shown now and never again."""
    record(connect().post("/v1/accounts", {"name": name}), as_json)


@accounts.command("list")
def list_accounts(limit: int = LimitOpt, as_json: bool = JsonOpt) -> None:
    table(connect().pages("/v1/accounts", limit=limit), ACCOUNT_COLUMNS, as_json)


@accounts.command("show")
def show_account(account_id: str, as_json: bool = JsonOpt) -> None:
    record(connect().get(f"/v1/accounts/{account_id}"), as_json)


@accounts.command("credit")
def credit(
    account_id: str,
    amount: int = typer.Argument(..., min=1, help="minor units"),
    note: str | None = typer.Option(None, help="kept in the ledger"),
    as_json: bool = JsonOpt,
) -> None:
    """Add funds to an account's balance (admin)."""
    body = {"amount": amount, **({"note": note} if note else {})}
    record(connect().post(f"/v1/accounts/{account_id}/credits", body), as_json)


@keys.command("list")
def list_keys(as_json: bool = JsonOpt) -> None:
    table(connect().get("/v1/keys")["data"], KEY_COLUMNS, as_json)


@keys.command("create")
def create_key(name: str | None = typer.Option(None), as_json: bool = JsonOpt) -> None:
    """Issue another key for this account; shown now and never again."""
    record(connect().post("/v1/keys", {"name": name} if name else None), as_json)


@keys.command("revoke")
def revoke_key(key_id: str, as_json: bool = JsonOpt) -> None:
    record(connect().delete(f"/v1/keys/{key_id}"), as_json)


@app.command()
def balance(as_json: bool = JsonOpt) -> None:
    """The account's spendable and reserved balance (minor units)."""
    record(connect().get("/v1/balance"), as_json)
