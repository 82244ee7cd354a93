"""Signature checks for both schemes Hookline signs with."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

DEFAULT_TOLERANCE = 300.0


class InvalidSignature(Exception):
    """The request was not signed with this secret (or is too old)."""


def _standard_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a Standard Webhooks secret is whsec_ followed by base64") from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one request (``v1,<base64>``); for tests."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class Verifier:
    """Checks deliveries signed with one secret.

    ``header=None``: Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
    ``webhook-signature``), refused when the timestamp is more than ``tolerance`` seconds
    from now, so a captured request cannot be replayed later. ``header="X-Signature"``:
    the ``sha256=<hex HMAC of the body>`` scheme, keyed with the secret's UTF-8 bytes.
    Pass ``secrets`` instead of ``secret`` to accept several during a rotation.
    """

    def __init__(
        self,
        secret: str | None = None,
        *,
        secrets: tuple[str, ...] = (),
        header: str | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
    ) -> None:
        self.secrets = (secret, *secrets) if secret is not None else tuple(secrets)
        if not self.secrets:
            raise ValueError("a Verifier needs a secret")
        self.header = header
        self.tolerance = tolerance
        self._keys = [] if header is not None else [_standard_key(s) for s in self.secrets]

    def verify(self, body: bytes, headers: Mapping[str, str], *, now: float | None = None) -> Any:
        """Check one request; return its JSON body parsed. Raises InvalidSignature."""
        lowered = {k.lower(): v for k, v in headers.items()}
        if self.header is not None:
            self._check_hex(body, lowered.get(self.header.lower(), ""))
        else:
            self._check_standard(body, lowered, time.time() if now is None else now)
        try:
            return json.loads(body)
        except ValueError:
            raise InvalidSignature("the signed body is not JSON") from None

    def _check_hex(self, body: bytes, got: str) -> None:
        given = [v.strip() for v in got.split(",") if v.strip()]
        for secret in self.secrets:
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            if any(hmac.compare_digest(expected, v) for v in given):
                return
        raise InvalidSignature(f"no valid {self.header} signature")

    def _check_standard(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        msg_id = headers.get("webhook-id")
        stamp = headers.get("webhook-timestamp", "")
        if not msg_id:
            raise InvalidSignature("missing webhook-id")
        if not stamp.isdigit():
            raise InvalidSignature("missing or malformed webhook-timestamp")
        if abs(now - int(stamp)) > self.tolerance:
            raise InvalidSignature("webhook-timestamp is outside the tolerance")
        given = [
            part.split(",", 1)[1]
            for part in headers.get("webhook-signature", "").split()
            if part.startswith("v1,")
        ]
        if not given:
            raise InvalidSignature("missing webhook-signature")
        signed = f"{msg_id}.{stamp}.".encode() + body
        for key in self._keys:
            expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
            if any(hmac.compare_digest(expected, g) for g in given):
                return
        raise InvalidSignature("no matching webhook-signature")


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    header: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Any:
    """Check one delivery's signature and return its parsed JSON body."""
    return Verifier(secret, header=header, tolerance=tolerance).verify(body, headers, now=now)
