"""Webhook signatures.

Two schemes:

* ``standard`` (Standard Webhooks): headers ``webhook-id``, ``webhook-timestamp`` and
  ``webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``, where
  the key is the base64-decoded part of a ``whsec_…`` secret. During a secret rotation
  the header carries one space-separated value per valid secret.
* ``sha256-hex``: ``sha256=<hex HMAC-SHA256(secret, raw body)>`` in a configurable header,
  keyed with the secret string's UTF-8 bytes, for receivers that expect that style. The
  ``webhook-*`` id and timestamp headers are sent as well.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
# \Z, not $: callers use .match(), and $ would also accept a name ending in a newline.
HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{0,63}\Z")


class Scheme(StrEnum):
    STANDARD = "standard"
    SHA256_HEX = "sha256-hex"


def generate_secret() -> str:
    """A new ``whsec_`` secret: base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(24)).decode()


def secret_problem(secret: str, scheme: Scheme) -> str | None:
    """Why this secret cannot be used with this scheme, or None when it can."""
    if scheme is Scheme.STANDARD:
        if not secret.startswith(SECRET_PREFIX):
            return "a standard-scheme secret must start with whsec_"
        try:
            key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            return "the part after whsec_ must be base64"
        if not 24 <= len(key) <= 64:
            return "the secret must decode to 24 to 64 bytes"
        return None
    if not 16 <= len(secret) <= 256:
        return "the secret must be 16 to 256 characters"
    return None


@lru_cache(maxsize=4096)
def _standard_signer(secret: str) -> Webhook:
    return Webhook(secret)


def sign_standard(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one ``v1,…`` entry per secret."""
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    text = body.decode()
    return " ".join(_standard_signer(s).sign(msg_id, when, text) for s in secrets)


def sign_sha256_hex(secret: str, body: bytes) -> str:
    """``sha256=<hex>`` of the raw body, keyed with the secret's UTF-8 bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_headers(
    *,
    scheme: Scheme,
    header: str | None,
    secrets: Sequence[str],
    msg_id: str,
    timestamp: int,
    body: bytes,
) -> dict[str, str]:
    """All signature-related headers for one request."""
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    if scheme is Scheme.STANDARD:
        headers["webhook-signature"] = sign_standard(secrets, msg_id, timestamp, body)
    else:
        headers[header or "X-Signature"] = ", ".join(sign_sha256_hex(s, body) for s in secrets)
    return headers
