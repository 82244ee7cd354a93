"""``hookline login`` / ``logout``: remember a server and key for the other commands."""

from __future__ import annotations

import json
from typing import Any

import typer

from hookline.cli.client import AuthError, Client, config_path, save
from hookline.cli.output import note
from hookline.cli.root import app


@app.command()
def login(
    url: str = typer.Option(
        "http://127.0.0.1:8000", "--url", prompt="Server URL", help="the Hookline server"
    ),
    api_key: str = typer.Option(
        ..., "--api-key", prompt="API key", hide_input=True, help="an account or admin key"
    ),
) -> None:
    """Check a server URL and key, then store them for later commands (mode 0600, in
    $XDG_CONFIG_HOME/hookline, else ~/.config/hookline)."""
    client = Client(url, api_key)
    client.get("/health")
    try:
        who = _whoami(client)
    finally:
        client.close()
    path = save(url, api_key)
    note(f"Logged in to {url} as {who}; saved in {path}")


def _whoami(client: Client) -> str:
    try:
        keys: dict[str, Any] = client.get("/v1/keys")
        return f"an account (key {keys['data'][0]['prefix']}…)" if keys["data"] else "an account"
    except AuthError as exc:
        if exc.status != 403:
            raise
    client.get("/v1/accounts", limit=1)  # only the admin key gets past this one
    return "the admin"


@app.command()
def logout() -> None:
    """Forget the stored server and key."""
    path = config_path()
    path.unlink(missing_ok=True)
    note(f"Removed {path}")


def parse_json(text: str, what: str) -> Any:
    """A JSON argument; ``@file`` reads a file and ``-`` standard input."""
    if text == "-":
        text = typer.get_text_stream("stdin").read()
    elif text.startswith("@"):
        try:
            with open(text[1:]) as f:
                text = f.read()
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {text[1:]}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{what} is not valid JSON: {exc}") from None
