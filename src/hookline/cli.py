"""``hookline serve | worker | migrate``.

Every setting in :class:`hookline.config.Settings` is a flag on each command, and each
flag reads its ``HOOKLINE_*`` environment variable, so the two can never drift apart.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
import socket
import sys
import typing
from collections.abc import Callable
from typing import Any

import typer
import uvicorn
from pydantic import ValidationError

from hookline import __version__
from hookline.api.app import create_app
from hookline.api.server import Server
from hookline.config import Settings
from hookline.errors import StoreUnavailable
from hookline.store import migrate
from hookline.system import System, ensure_admin_key, open_database

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Hookline: self-hostable webhook delivery."
)
log = logging.getLogger("hookline")


def _with_settings_flags(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command one option per setting; call it with a built ``Settings``."""
    params = []
    for name, field in Settings.model_fields.items():
        flag = "--" + name.replace("_", "-")
        annotation: Any = str | None
        if field.annotation is bool:
            annotation = bool | None
            flag = f"{flag}/--no-{name.replace('_', '-')}"
        params.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=typer.Option(
                    None,
                    flag,
                    envvar=f"HOOKLINE_{name.upper()}",
                    help=field.description or "",
                    show_default=False,
                ),
                annotation=annotation,
            )
        )
    # Resolved hints: with postponed annotations a bare "bool" string would hide
    # --no-<flag> from Typer.
    hints = typing.get_type_hints(func)
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in inspect.signature(func).parameters.values()
        if p.name != "settings"
    ]

    def command(**kwargs: Any) -> Any:
        values = {k: v for k, v in kwargs.items() if k in Settings.model_fields and v is not None}
        rest = {k: v for k, v in kwargs.items() if k not in Settings.model_fields}
        try:
            settings = Settings(**values)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "settings"
                typer.echo(f"hookline: invalid setting {where}: {err['msg']}", err=True)
            raise typer.Exit(2) from None
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        return func(settings=settings, **rest)

    command.__signature__ = inspect.Signature(own + params)  # type: ignore[attr-defined]
    command.__name__ = func.__name__
    command.__doc__ = func.__doc__
    return command


def _run(main: Any) -> None:
    try:
        try:
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(main)
        except ImportError:
            asyncio.run(main)
    except StoreUnavailable as exc:
        # At start-up (or migrating): say so in one line; a supervisor can retry.
        typer.echo(f"hookline: {exc.message} ({exc.__cause__})", err=True)
        raise typer.Exit(1) from None


@app.command()
@_with_settings_flags
def serve(
    *,
    settings: Settings,
    worker: bool = typer.Option(
        True, "--worker/--no-worker", help="also run delivery workers in this process"
    ),
) -> None:
    """Run the HTTP API and (by default) the delivery worker in one process."""
    _run(_serve(settings, with_worker=worker))


async def _serve(settings: Settings, *, with_worker: bool) -> None:
    admin_key = ensure_admin_key(settings)
    system = await System.open(settings, admin_key=admin_key)
    try:
        if with_worker:
            await system.start_worker()
        sock = _bind(settings.host, settings.port)
        host, port = sock.getsockname()[:2]

        config = uvicorn.Config(
            create_app(system),
            http="httptools",
            log_level=settings.log_level.lower(),
            access_log=False,
            lifespan="off",
            server_header=False,
        )
        server = Server(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.stop)
        shown = f"[{host}]" if ":" in host else host
        print(
            f"Hookline {__version__} listening on http://{shown}:{port} "
            f"(database: {system.db.dialect}, worker: {'on' if with_worker else 'off'})",
            flush=True,
        )
        await server.serve(sockets=[sock])
    finally:
        await system.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        typer.echo(f"hookline: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


@app.command()
@_with_settings_flags
def worker(*, settings: Settings) -> None:
    """Run delivery workers only (no HTTP API)."""
    _run(_worker(settings))


async def _worker(settings: Settings) -> None:
    system = await System.open(settings)
    try:
        await system.start_worker()
        loop = asyncio.get_running_loop()
        assert system.worker is not None
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, system.worker.stop)
        print(
            f"Hookline {__version__} worker {system.worker.owner} started "
            f"(database: {system.db.dialect})",
            flush=True,
        )
        await system.wait_worker()
    finally:
        await system.close()


@app.command(name="migrate")
@_with_settings_flags
def migrate_command(*, settings: Settings) -> None:
    """Create or upgrade the database schema to this version's."""

    async def run() -> None:
        db = open_database(settings)
        try:
            before = await migrate.current_revision(db)
            await migrate.upgrade(db)
            after = await migrate.current_revision(db)
        finally:
            await db.close()
        if before == after:
            print(f"schema is up to date (revision {after})")
        else:
            print(f"schema upgraded from {before or 'empty'} to {after}")

    _run(run())


@app.command()
def receive(
    port: int = typer.Option(9000, help="port to listen on (127.0.0.1)"),
    secret: str | None = typer.Option(None, help="verify signatures with this secret"),
    header: str | None = typer.Option(None, help="sha256-hex scheme: the signature header"),
    status: int = typer.Option(200, help="the HTTP status to answer with"),
) -> None:
    """A local receiver for trying Hookline out: prints every delivery it gets."""
    from aiohttp import web

    from hookline.receiver import InvalidSignature, verify

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        verdict = "not checked"
        if secret:
            try:
                verify(secret, body, request.headers, header=header)
                verdict = "valid"
            except InvalidSignature as exc:
                verdict = f"INVALID ({exc})"
        print(
            f"{request.method} {request.path} webhook-id={request.headers.get('webhook-id')} "
            f"signature={verdict}\n{body.decode(errors='replace')}",
            flush=True,
        )
        return web.Response(status=status, text="ok")

    server = web.Application()
    server.router.add_route("*", "/{tail:.*}", handle)
    sock = _bind("127.0.0.1", port)
    print(f"receiving on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    web.run_app(server, sock=sock, print=None, access_log=None)


@app.command()
def version() -> None:
    """Print Hookline's version."""
    print(__version__)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
