"""``hookline listen``: receive a server's deliveries on this machine, with no public URL.

It registers a temporary *listen* webhook, opens one outgoing stream
(``GET /v1/webhooks/{id}/stream``, server-sent events), forwards each delivery to a local
URL with the signed headers the server made, and reports the local answer back
(``POST /v1/deliveries/{id}/report``), where it is recorded as an ordinary attempt.
Deliveries are ordinary deliveries: while the CLI is away they wait (and are retried on
the webhook's policy), so a reconnect, or a restart after a crash, loses none. A clean
exit (Ctrl-C, SIGTERM) deletes the webhook; after a crash the next ``hookline listen``
with the same server, URL and events takes the same webhook up again.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import typer

from hookline.cli.client import (
    ApiError,
    Client,
    CliError,
    Unavailable,
    answer,
    config_path,
    connect,
)
from hookline.cli.root import app

RESPONSE_LIMIT = 4096


def _say(message: str) -> None:
    print(message, flush=True)


@app.command()
def listen(
    forward_to: str = typer.Option(
        ..., "--forward-to", "-f", help="the local URL deliveries are sent to"
    ),
    events: list[str] | None = typer.Option(
        None,
        "--events",
        "-e",
        help="event types or patterns, comma-separated or repeated (default: all)",
    ),
    timeout: float = typer.Option(10.0, min=0.1, help="seconds the local app may take"),
) -> None:
    """Forward this account's events to a local URL, through a temporary webhook whose
    deliveries stream to this machine over one outgoing connection."""
    if not forward_to.startswith(("http://", "https://")):
        raise typer.BadParameter("an http:// or https:// URL", param_hint="--forward-to")
    patterns = sorted({p.strip() for e in events or [] for p in e.split(",") if p.strip()})
    client = connect()
    state = _state_file(client.url, forward_to, patterns)
    hook = _resume(client, state) or _create(client, state, forward_to, patterns)
    _say(f"webhook {hook['webhook_id']} (listen) for {', '.join(patterns) or 'all events'}")
    _say(f"forwarding to {forward_to}; signing secret {hook['secret']}")

    def stop(_sig: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    local = httpx.Client(timeout=timeout, follow_redirects=False)
    try:
        _follow(client, local, hook["webhook_id"], forward_to)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut cleanup
        local.close()
        _remove(client, hook["webhook_id"], state)


def _state_file(url: str, forward_to: str, patterns: list[str]) -> Path:
    key = hashlib.sha256(json.dumps([url, forward_to, patterns]).encode()).hexdigest()[:16]
    return config_path().parent / "listen" / f"{key}.json"


def _resume(client: Client, state: Path) -> dict[str, Any] | None:
    """The webhook a crashed session left, if it is still there to take up."""
    try:
        saved = json.loads(state.read_text())
        hook: dict[str, Any] = client.get(f"/v1/webhooks/{saved['webhook_id']}")
    except (OSError, ValueError, KeyError, ApiError):
        return None
    if hook.get("mode") != "listen" or hook["status"] != "active":
        return None
    _say(f"resuming {hook['webhook_id']}: deliveries queued while away come first")
    return hook | {"secret": client.get(f"/v1/webhooks/{hook['webhook_id']}/secret")["secret"]}


def _create(client: Client, state: Path, forward_to: str, patterns: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "mode": "listen",
        "callback_url": forward_to,
        "description": f"hookline listen on {os.uname().nodename}",
    }
    if patterns:
        body["events"] = patterns
    hook: dict[str, Any] = client.post("/v1/webhooks", body)
    state.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(state, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"webhook_id": hook["webhook_id"]}, out)
    return hook


def _remove(client: Client, webhook_id: str, state: Path) -> None:
    try:
        client.delete(f"/v1/webhooks/{webhook_id}")
    except CliError as exc:
        _say(f"could not delete webhook {webhook_id}: {exc.message}")
        return
    state.unlink(missing_ok=True)
    _say(f"deleted webhook {webhook_id}")


def _follow(client: Client, local: httpx.Client, webhook_id: str, forward_to: str) -> None:
    """Read the stream, reconnecting with backoff whenever it drops."""
    backoff = 0.5
    while True:
        try:
            for kind, doc in _stream(client, webhook_id):
                if kind == "ready":
                    _say("connected; waiting for events (Ctrl-C to stop)")
                    backoff = 0.5
                elif kind == "delivery":
                    _forward(client, local, forward_to, doc)
            problem = "the server closed the stream"
        except (httpx.TransportError, Unavailable) as exc:
            problem = str(exc) or type(exc).__name__
        _say(f"connection lost ({problem}); reconnecting in {backoff:g} s")
        time.sleep(backoff)
        backoff = min(backoff * 2, 5.0)


def _stream(client: Client, webhook_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Server-sent events as (event name, decoded data)."""
    # The server writes a keepalive every few seconds: silence this long means it is gone.
    timeout = httpx.Timeout(10.0, read=20.0)
    with client.http.stream("GET", f"/v1/webhooks/{webhook_id}/stream", timeout=timeout) as r:
        if r.status_code >= 400:
            r.read()
            answer(r)
        kind, data = "message", []
        for line in r.iter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif not line and data:
                yield kind, json.loads("\n".join(data))
                kind, data = "message", []


def _forward(client: Client, local: httpx.Client, url: str, d: dict[str, Any]) -> None:
    started = time.perf_counter()
    report: dict[str, Any]
    try:
        r = local.post(url, content=d["body"].encode(), headers=d["headers"])
        text = r.content[:RESPONSE_LIMIT].decode(errors="replace")
        ok = 200 <= r.status_code < 300
        report = {
            "status_code": r.status_code,
            "response_body": text,
            "error": None if ok else "http_status",
            "error_detail": None if ok else f"HTTP {r.status_code}",
        }
        outcome = f"{r.status_code} {r.reason_phrase}"
    except httpx.TimeoutException:
        report = {"error": "timeout", "error_detail": "the local app did not answer in time"}
        outcome, text = "timeout", ""
    except httpx.HTTPError as exc:
        report = {"error": "connection_error", "error_detail": str(exc)[:500]}
        outcome, text = f"not delivered ({exc})", ""
    ms = int((time.perf_counter() - started) * 1000)
    report["duration_ms"] = ms
    now = datetime.now(UTC).strftime("%H:%M:%S")
    _say(
        f"{now} {d['event_type']} {d['event_id']} (attempt {d['attempt']}) -> {outcome} in {ms} ms"
    )
    if text:
        _say(f"    {text[:200]}")
    try:
        result = client.post(
            f"/v1/deliveries/{d['delivery_id']}/report",
            report | {"session": d["session"]},
        )
    except ApiError as exc:
        _say(f"    not recorded: {exc.message}")
        return
    if result["status"] == "pending":
        _say("    will be retried on the webhook's policy")
