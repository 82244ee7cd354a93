"""Verifying Hookline webhooks on the receiving side.

>>> from hookline.receiver import verify
>>> event = verify(secret, body, headers)  # raises InvalidSignature when it does not match

``verify`` accepts both schemes: Standard Webhooks (``webhook-signature``) and
``sha256=<hex>`` (pass ``header=`` with its name). Standard signatures older or newer than
``tolerance`` seconds are refused, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

import orjson
from standardwebhooks import Webhook, WebhookVerificationError

__all__ = ["InvalidSignature", "verify"]


class InvalidSignature(Exception):
    """The request was not signed with this secret (or is too old)."""


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    header: str | None = None,
    tolerance: float = 300,
    now: float | None = None,
) -> Any:
    """Check the signature of one delivery and return its parsed JSON body."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if header is not None:
        got = lowered.get(header.lower(), "")
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not any(hmac.compare_digest(expected, v.strip()) for v in got.split(",")):
            raise InvalidSignature(f"no valid {header} signature")
        return orjson.loads(body)
    try:
        stamp = float(lowered.get("webhook-timestamp", ""))
    except ValueError:
        raise InvalidSignature("missing or malformed webhook-timestamp") from None
    if abs((now if now is not None else time.time()) - stamp) > tolerance:
        raise InvalidSignature("webhook-timestamp is outside the tolerance")
    try:
        Webhook(secret).verify(body, dict(lowered))
    except (WebhookVerificationError, ValueError) as exc:
        raise InvalidSignature(str(exc)) from None
    return orjson.loads(body)
