"""Hookline's operational events under Svix's names and in Svix's shape.

A raw webhook (``payload_format: raw``, the default for endpoints made through
``/api/v1``) subscribes to them by Svix's names; they are stored under Hookline's own
names (so they stay out of ``*`` and raise no events about themselves) and rendered in
Svix's shape when sent to such a webhook.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from hookline.domain import operational as op
from hookline.domain.envelope import format_time

# Svix name -> Hookline name.
NAMES = {
    "message.attempt.exhausted": op.DELIVERY_EXHAUSTED,
    "message.attempt.failing": op.DELIVERY_FAILING,
    "message.attempt.recovered": op.DELIVERY_RECOVERED,
    "endpoint.disabled": op.WEBHOOK_DISABLED,
    "endpoint.enabled": op.WEBHOOK_ENABLED,
}
SVIX_NAMES = {hookline: svix for svix, hookline in NAMES.items()}


def to_hookline(types: Sequence[str] | None) -> list[str] | None:
    """Subscribed types as stored: Svix's operational names become Hookline's."""
    return None if types is None else [NAMES.get(t, t) for t in types]


def to_svix(types: Sequence[str] | None) -> list[str] | None:
    return None if types is None else [SVIX_NAMES.get(t, t) for t in types]


def render(event_type: str, payload: str, *, app_id: str, created_at: datetime) -> bytes | None:
    """The Svix body of one of Hookline's operational events; None for other types."""
    name = SVIX_NAMES.get(event_type)
    if name is None:
        return None
    d: dict[str, Any] = orjson.loads(payload)
    data: dict[str, Any] = {"appId": app_id, "appUid": None, "endpointId": d.get("webhook_id")}
    if name.startswith("message.attempt."):
        last = d.get("last_attempt") or {}
        data |= {
            "msgId": d.get("event_id"),
            "msgEventId": None,
            "lastAttempt": {
                "id": last.get("attempt_id"),
                "timestamp": last.get("created_at"),
                "responseStatusCode": last.get("status_code") or 0,
            },
        }
    else:
        data["endpointUid"] = None
        if name == "endpoint.disabled":
            data["trigger"] = "manual" if d.get("reason") == "manual" else "automatic"
            data["failSince"] = d.get("disabled_at")
    return orjson.dumps({"type": name, "timestamp": format_time(created_at), "data": data})
