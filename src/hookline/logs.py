"""Logging set-up, and the ids a log line is about (request, account, webhook, delivery).

The ids live in a context variable, so every line logged while handling a request, or
while sending one delivery, carries them without being passed around. With
``HOOKLINE_LOG_FORMAT=json`` each line is one JSON object.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

import orjson

# One mutable dict per request or per delivery task: a dependency deep inside a request
# (the one that authenticates) can add the account for the access line logged outside.
_ids: ContextVar[dict[str, str] | None] = ContextVar("hookline_log_ids", default=None)

FIELDS = ("request_id", "account_id", "webhook_id", "delivery_id", "event_id", "call_id")


def scope(**ids: str | None) -> Token[dict[str, str] | None]:
    """Start a new set of ids for this context (a request, a delivery task)."""
    current = _ids.get() or {}
    return _ids.set(current | {k: v for k, v in ids.items() if v is not None})


def reset(token: Token[dict[str, str] | None]) -> None:
    _ids.reset(token)


def annotate(**ids: str | None) -> None:
    """Add ids to the current set, visible to whoever started it."""
    current = _ids.get()
    values = {k: v for k, v in ids.items() if v is not None}
    if current is None:
        _ids.set(values)
    else:
        current.update(values)


def current() -> dict[str, str]:
    return dict(_ids.get() or {})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_ids.get() or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = _ids.get()
        if ids:
            line += " [" + " ".join(f"{k}={v}" for k, v in ids.items()) + "]"
        return line


def configure(level: str, fmt: str) -> None:
    """Send every logger's lines to stderr in ``fmt`` ("text" or "json")."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
