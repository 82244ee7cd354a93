"""``hookline``: run the server (``serve``, ``worker``, ``migrate``) and use it from a
shell. Every command past the server's own is a client of the HTTP API
(:mod:`hookline.cli.client`); none of them touches the database.

Exit codes (:class:`hookline.cli.client.Exit`): 0 ok, 1 the API refused the request
(4xx), 2 usage, 3 unreachable or a server error (5xx), 4 authentication or permission.
"""

from __future__ import annotations

import sys

from hookline.cli import (  # noqa: F401 - importing registers the commands
    accounts,
    deliveries,
    event_types,
    events,
    gateway,
    listen,
    login,
    purge,
    server,
    sources,
    webhooks,
)
from hookline.cli.client import CliError
from hookline.cli.output import errors
from hookline.cli.root import app

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except CliError as exc:
        errors.print(f"hookline: {exc.message}", markup=False)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        sys.exit(130)
