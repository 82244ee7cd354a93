"""The root ``hookline`` command: where every sub-command is registered, and the options
that say which server the client commands talk to."""

from __future__ import annotations

import typer

from hookline.cli import client

app = typer.Typer(
    no_args_is_help=True,
    # Plain help text: it wraps instead of cutting long variable names short, and
    # "[default: …]" is not taken for markup.
    rich_markup_mode=None,
    help="Hookline: self-hostable webhook delivery.\n\n"
    "Exit codes: 0 ok, 1 the API refused the request (4xx), 2 usage error, "
    "3 server unreachable or failing (5xx), 4 authentication or permission.",
    context_settings={"max_content_width": 120},
)


@app.callback()
def root(
    url: str | None = typer.Option(
        None, "--url", envvar="HOOKLINE_URL", help="server URL (default: from `hookline login`)"
    ),
    api_key: str | None = typer.Option(
        None,
        "--api-key",
        envvar="HOOKLINE_API_KEY",
        help="API key (default: from `hookline login`)",
        show_default=False,
    ),
) -> None:
    """Run Hookline (serve, worker, migrate) or use a running one (every other command)."""
    client.given = client.Target(url=url, api_key=api_key)
