"""``hookline serve | worker | migrate | secrets | receive | version``: the commands that
run Hookline.

Every setting in :class:`hookline.config.Settings` is a flag on each command, and each
flag reads its ``HOOKLINE_*`` environment variable, so the two can never drift apart.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
import signal
import socket
import typing
from collections.abc import Callable
from typing import Any

import typer
from pydantic import ValidationError

from hookline import __version__, logs
from hookline.cli.root import app
from hookline.config import Settings
from hookline.errors import SecretsUnreadable, StoreUnavailable

# The server's stack (uvicorn, FastAPI, the store) is imported by the commands that run
# it, not here: the client commands start in a fraction of the time without it.

log = logging.getLogger("hookline")

# Allocations (less deallocations) between two collections of the young generation.
GC_YOUNG_THRESHOLD = 20_000


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
                    help=_setting_help(field),
                    metavar=_setting_type(field.annotation),
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
        logs.configure(settings.log_level, settings.log_format)
        return func(settings=settings, **rest)

    command.__signature__ = inspect.Signature(own + params)  # type: ignore[attr-defined]
    command.__name__ = func.__name__
    command.__doc__ = func.__doc__
    return command


def _setting_type(annotation: Any) -> str:
    """What a setting's value looks like, for --help (every flag is read as text and
    checked by Settings, so the parser's own type would always say TEXT)."""
    text = str(annotation)
    for needle, shown in (
        ("bool", "BOOLEAN"),
        ("tuple[float", "SECONDS,…"),
        ("tuple[str", "LIST,…"),
        ("float", "FLOAT"),
        ("int", "INTEGER"),
        ("Path", "PATH"),
    ):
        if needle in text:
            return shown
    return "TEXT"


def _setting_help(field: Any) -> str:
    default = field.default
    if isinstance(default, tuple):
        shown = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in default)
    elif isinstance(default, bool):
        shown = "on" if default else "off"
    else:
        shown = str(default) if default not in (None, "") else "none"
    text = field.description or ""
    if "default:" in text:  # the description says it better than a value could
        return text
    return f"{text} [default: {shown or 'none'}]".strip()


def _run(main: Any) -> None:
    from hookline import tracing
    from hookline.store.sealing import InvalidSecretKey

    stop_tracing = tracing.configure_from_env()
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
    except (SecretsUnreadable, InvalidSecretKey) as exc:
        typer.echo(f"hookline: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        if stop_tracing is not None:
            stop_tracing()  # exports the spans still buffered


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
    import uvicorn

    from hookline.api.app import create_app
    from hookline.api.server import Server
    from hookline.system import System, ensure_admin_key

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
            # uvicorn's own lines go through our handler, in our format.
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
        )
        server = Server(config)
        _settle_memory()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.stop)
        shown = f"[{host}]" if ":" in host else host
        print(
            f"Hookline {__version__} listening on http://{shown}:{port} "
            f"(database: {system.db.dialect}, worker: {'on' if with_worker else 'off'})",
            flush=True,
        )
        print(
            f"console on http://{shown}:{port}/console, API docs on http://{shown}:{port}/docs",
            flush=True,
        )
        await server.serve(sockets=[sock])
    finally:
        await system.close()


def _settle_memory() -> None:
    """Once start-up has built its long-lived objects (modules, the app, compiled
    statements): move them out of the collector's sight, and collect the young
    generation less often. A request allocates hundreds of short-lived containers;
    at the default threshold (700) the collector ran several times per request and
    re-scanned everything start-up made each time it reached the older generations."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio's own event loop turns Nagle's algorithm off
    # only on sockets that say they are TCP (the accepted ones copy this). With Nagle on,
    # a response written in two parts waits for the client's delayed ACK: 40 ms or more
    # per request on a kept-alive connection. uvloop turns it off regardless.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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
    from hookline.runtime.monitor import MonitorServer
    from hookline.system import System

    # Bound before anything starts, so a port already in use fails at once.
    sock = _bind(settings.host, settings.metrics_port) if settings.metrics_port else None
    system = await System.open(settings)
    monitor: MonitorServer | None = None
    try:
        await system.start_worker()
        _settle_memory()
        loop = asyncio.get_running_loop()
        assert system.worker is not None
        worker = system.worker
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)
        if sock is not None:
            monitor = MonitorServer(
                system.metrics,
                ping=system.db.ping,
                alive=lambda: not worker.stopping,
                dialect=system.db.dialect,
            )
            await monitor.start(sock)
        print(
            f"Hookline {__version__} worker {worker.owner} started (database: {system.db.dialect})",
            flush=True,
        )
        if monitor is not None:
            host = f"[{settings.host}]" if ":" in settings.host else settings.host
            print(f"metrics and health on http://{host}:{monitor.port}", flush=True)
        await system.wait_worker()
    finally:
        if monitor is not None:
            await monitor.close()
        await system.close()


@app.command(name="migrate")
@_with_settings_flags
def migrate_command(*, settings: Settings) -> None:
    """Create or upgrade the database schema to this version's."""
    from hookline.store import migrate
    from hookline.system import open_database

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


secrets_app = typer.Typer(no_args_is_help=True, help="The keys that seal stored secrets.")
app.add_typer(secrets_app, name="secrets")


@secrets_app.command("generate-key")
def generate_key_command() -> None:
    """Print a new key for HOOKLINE_SECRET_KEY."""
    from hookline.store.sealing import generate_key

    print(generate_key())


@secrets_app.command("rotate-key")
@_with_settings_flags
def rotate_key(
    *,
    settings: Settings,
    new_key: str | None = typer.Option(
        None,
        "--new-key",
        envvar="HOOKLINE_NEW_SECRET_KEY",
        help="seal with this key from now on (default: the first of HOOKLINE_SECRET_KEY, "
        "or a new one when the key is kept in the data dir)",
        show_default=False,
    ),
) -> None:
    """Seal every stored secret again with the newest key (docs/security.md)."""
    from hookline.store import migrate
    from hookline.store.sealing import Sealer, generate_key, parse_keys
    from hookline.store.secrets import SecretRepository
    from hookline.system import SECRET_KEY_FILE, open_database, secret_keys, write_key_file

    async def run() -> None:
        current = secret_keys(settings)
        in_file = settings.secret_key is None
        newest = parse_keys(new_key)[0] if new_key else generate_key() if in_file else current[0]
        keys = (newest, *(k for k in current if k != newest))
        db = open_database(settings, Sealer(keys))
        try:
            await migrate.upgrade(db)
            count = await SecretRepository(db).reseal_all()
        finally:
            await db.close()
        print(f"sealed the secrets of {count} stored rows with the newest key")
        if in_file:
            write_key_file(settings.data_dir / SECRET_KEY_FILE, (newest,), replace=True)
            print(f"{settings.data_dir / SECRET_KEY_FILE} now holds the new key alone")
        elif newest != current[0]:
            print("now set HOOKLINE_SECRET_KEY to the new key (the key given with --new-key)")

    _run(run())


@app.command()
def receive(
    port: int = typer.Option(9000, help="port to listen on (127.0.0.1)"),
    secret: str | None = typer.Option(
        None, help="verify signatures with this secret (or whpk_ public key)"
    ),
    header: str | None = typer.Option(None, help="sha256-hex scheme: the signature header"),
    status: int = typer.Option(200, help="the HTTP status to answer with"),
    delay: float = typer.Option(
        0.0, help="seconds to wait before answering (to stand in for a slow API upstream)"
    ),
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
        if delay > 0:
            await asyncio.sleep(delay)
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
