"""``hookline webhooks``: register, read, change and remove webhooks."""

from __future__ import annotations

from typing import Any

import typer

from hookline.cli.client import connect
from hookline.cli.login import parse_json
from hookline.cli.output import Column, JsonOpt, LimitOpt, note, print_json, record, table
from hookline.cli.root import app

webhooks = typer.Typer(no_args_is_help=True, help="Webhooks: where events are delivered.")
app.add_typer(webhooks, name="webhooks")

COLUMNS: list[Column] = [
    ("ID", "webhook_id"),
    ("URL", "callback_url"),
    ("EVENTS", lambda w: ",".join(w["events"])),
    ("STATUS", "status"),
    ("FAILURES", "failure_count"),
    ("CREATED", "created_at"),
]

EventsOpt = typer.Option(None, "--event", "-e", help="an event type or pattern (repeatable)")
KeyTypeOpt = typer.Option(
    None,
    "--key-type",
    help="generate this kind of secret: hmac-sha256 (whsec_, v1) or ed25519 (whsk_, v1a)",
)


def _headers(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"{pair!r}: expected NAME=VALUE")
        out[name] = value
    return out


def _schedule(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        return {"schedule": [float(v) for v in text.split(",") if v.strip()]}
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected seconds, comma-separated") from None


RateOpt = typer.Option(
    None, "--rate-limit", help="deliveries per second at most, e.g. 5 ('none': no limit)"
)
OrderingOpt = typer.Option(None, "--ordering", help="fifo (one at a time, in order) | unordered")
TimeoutOpt = typer.Option(
    None, "--timeout", help="seconds per attempt, up to the server's ('none': the server's)"
)


def _number(text: str | None, name: str) -> tuple[bool, float | None]:
    """(given, value) of a number option that 'none' clears."""
    if text is None:
        return False, None
    if text.strip().lower() in ("none", "null", "off"):
        return True, None
    try:
        return True, float(text)
    except ValueError:
        raise typer.BadParameter(f"{name}: {text!r} is not a number or 'none'") from None


def _control(rate_limit: str | None, ordering: str | None, timeout: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, text in (("rate_limit", rate_limit), ("timeout", timeout)):
        given, value = _number(text, name.replace("_", "-"))
        if given:
            body[name] = value
    if ordering is not None:
        body["ordering"] = ordering
    return body


@webhooks.command("create")
def create(
    url: str,
    events: list[str] | None = EventsOpt,
    secret: str | None = typer.Option(None, help="whsec_… or whsk_… (default: generated)"),
    key_type: str | None = KeyTypeOpt,
    retry_schedule: str | None = typer.Option(None, help="retry delays, e.g. 1,4,16"),
    sha256_header: str | None = typer.Option(
        None, help="sign as sha256=<hex> in this header instead of Standard Webhooks"
    ),
    header: list[str] | None = typer.Option(None, help="NAME=VALUE sent on every delivery"),
    description: str = "",
    rate_limit: str | None = RateOpt,
    ordering: str | None = OrderingOpt,
    timeout: str | None = TimeoutOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Register a webhook; the answer shows its secret."""
    body: dict[str, Any] = {"callback_url": url, "description": description}
    if events:
        body["events"] = events
    if secret:
        body["secret"] = secret
    if key_type:
        body["key_type"] = key_type
    if retry_schedule is not None:
        body["retry_policy"] = _schedule(retry_schedule)
    if sha256_header:
        body["signature"] = {"scheme": "sha256-hex", "header": sha256_header}
    if header:
        body["headers"] = _headers(header)
    body |= _control(rate_limit, ordering, timeout)
    record(connect().post("/v1/webhooks", body), as_json)


@webhooks.command("list")
def list_(
    include_deleted: bool = typer.Option(False, "--all", help="deleted ones too"),
    limit: int = LimitOpt,
    as_json: bool = JsonOpt,
) -> None:
    items = connect().pages(
        "/v1/webhooks", limit=limit, include_deleted=str(include_deleted).lower()
    )
    table(items, COLUMNS, as_json)


@webhooks.command("show")
def show(webhook_id: str, as_json: bool = JsonOpt) -> None:
    record(connect().get(f"/v1/webhooks/{webhook_id}"), as_json)


@webhooks.command("update")
def update(
    webhook_id: str,
    url: str | None = typer.Option(None, "--url"),
    events: list[str] | None = EventsOpt,
    retry_schedule: str | None = typer.Option(None, help="retry delays, e.g. 1,4,16"),
    active: bool | None = typer.Option(None, "--enable/--disable"),
    description: str | None = None,
    rate_limit: str | None = RateOpt,
    ordering: str | None = OrderingOpt,
    timeout: str | None = TimeoutOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Change the fields given; --enable re-enables a disabled webhook."""
    body: dict[str, Any] = {"callback_url": url, "events": events or None, "active": active}
    body["retry_policy"] = _schedule(retry_schedule)
    body["description"] = description
    body = {k: v for k, v in body.items() if v is not None}
    body |= _control(rate_limit, ordering, timeout)
    if not body:
        raise typer.BadParameter("nothing to change")
    record(connect().patch(f"/v1/webhooks/{webhook_id}", body), as_json)


@webhooks.command("delete")
def delete(webhook_id: str, as_json: bool = JsonOpt) -> None:
    """Stop delivering to it for good (queued deliveries are cancelled)."""
    record(connect().delete(f"/v1/webhooks/{webhook_id}"), as_json)


@webhooks.command("secret")
def secret(webhook_id: str, as_json: bool = JsonOpt) -> None:
    record(connect().get(f"/v1/webhooks/{webhook_id}/secret"), as_json)


@webhooks.command("rotate-secret")
def rotate_secret(
    webhook_id: str,
    secret: str | None = typer.Option(None, help="whsec_… or whsk_… (default: generated)"),
    key_type: str | None = KeyTypeOpt,
    as_json: bool = JsonOpt,
) -> None:
    """A new secret now; the old one keeps signing alongside it for 24 hours."""
    body = {k: v for k, v in {"secret": secret, "key_type": key_type}.items() if v}
    record(connect().post(f"/v1/webhooks/{webhook_id}/secret/rotate", body or None), as_json)


@webhooks.command("test")
def send_test(
    webhook_id: str,
    event_type: str | None = typer.Option(None, "--type", help="default: hookline.test"),
    data: str | None = typer.Option(None, help="JSON payload"),
    as_json: bool = JsonOpt,
) -> None:
    """Send one test event to this webhook only."""
    body: dict[str, Any] = {}
    if event_type:
        body["type"] = event_type
    if data is not None:
        body["data"] = parse_json(data, "--data")
    sent = connect().post(f"/v1/webhooks/{webhook_id}/test", body or None)
    if as_json:
        print_json(sent)
    else:
        print(sent["delivery_id"])  # alone on stdout: DELIVERY=$(hookline webhooks test …)
        note(f"sent {sent['type']} as event {sent['event_id']}")


@webhooks.command("stats")
def stats(
    webhook_id: str,
    since: str | None = typer.Option(None, help="ISO time, e.g. 2026-11-23T00:00:00Z"),
    as_json: bool = JsonOpt,
) -> None:
    """Deliveries by status, success rate and response times."""
    record(connect().get(f"/v1/webhooks/{webhook_id}/stats", since=since), as_json)


@webhooks.command("recover")
def recover(
    webhook_id: str,
    since: str = typer.Option(..., help="ISO time: deliveries made since then"),
    until: str | None = typer.Option(None, help="ISO time: and before then"),
    status: list[str] | None = typer.Option(
        None, "--status", help="failed | held (repeatable; default both)"
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Queue again the webhook's failed and held deliveries made since a time."""
    body: dict[str, Any] = {"since": since, "until": until, "statuses": status or None}
    body = {k: v for k, v in body.items() if v is not None}
    record(connect().post(f"/v1/webhooks/{webhook_id}/recover", body), as_json)
