"""Webhook signatures.

Two schemes:

* ``standard`` (Standard Webhooks): headers ``webhook-id``, ``webhook-timestamp`` and
  ``webhook-signature``, over ``"{id}.{timestamp}.{body}"``. A ``whsec_…`` secret (base64
  of the HMAC key) signs ``v1,<base64 HMAC-SHA256>``; a ``whsk_…`` key (base64 of an
  Ed25519 private key) signs ``v1a,<base64 Ed25519 signature>``, which receivers check
  with the public key alone (``whpk_…``, base64 of its 32 bytes). During a rotation the
  header carries one space-separated value per valid secret, of either kind.
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
from enum import StrEnum
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
PRIVATE_KEY_PREFIX = "whsk_"
PUBLIC_KEY_PREFIX = "whpk_"
# \Z, not $: callers use .match(), and $ would also accept a name ending in a newline.
HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{0,63}\Z")


class Scheme(StrEnum):
    STANDARD = "standard"
    SHA256_HEX = "sha256-hex"


class KeyType(StrEnum):
    """What a secret signs with; told by its prefix, so a secret string says it all."""

    HMAC_SHA256 = "hmac-sha256"
    ED25519 = "ed25519"


def key_type(secret: str, scheme: Scheme = Scheme.STANDARD) -> KeyType:
    """The kind of a secret. The ``sha256-hex`` scheme keys HMAC with any string (one
    stored before ``whsk_`` keys existed may even start so), so it is HMAC there."""
    if scheme is Scheme.STANDARD and secret.startswith(PRIVATE_KEY_PREFIX):
        return KeyType.ED25519
    return KeyType.HMAC_SHA256


def generate_secret(kind: KeyType = KeyType.HMAC_SHA256) -> str:
    """A new ``whsec_`` secret (base64 of 24 random bytes), or a new ``whsk_`` Ed25519
    key: base64 of the 32-byte seed followed by the 32-byte public key, the 64-byte form
    libsodium and Svix use, so the key can be moved to and from them."""
    if kind is KeyType.ED25519:
        key = Ed25519PrivateKey.from_private_bytes(os.urandom(32))
        raw = key.private_bytes_raw() + key.public_key().public_bytes_raw()
        return PRIVATE_KEY_PREFIX + base64.b64encode(raw).decode()
    return SECRET_PREFIX + base64.b64encode(os.urandom(24)).decode()


def _ed25519_key(secret: str) -> Ed25519PrivateKey:
    """The private key of a ``whsk_`` secret; ValueError says what is wrong with it."""
    try:
        raw = base64.b64decode(secret[len(PRIVATE_KEY_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the part after whsk_ must be base64") from None
    if len(raw) not in (32, 64):
        raise ValueError("a whsk_ key must decode to 32 bytes (seed) or 64 (seed + public key)")
    key = Ed25519PrivateKey.from_private_bytes(raw[:32])
    if len(raw) == 64 and raw[32:] != key.public_key().public_bytes_raw():
        raise ValueError("the last 32 bytes of a whsk_ key must be its seed's public key")
    return key


def public_key(secret: str, scheme: Scheme = Scheme.STANDARD) -> str | None:
    """The ``whpk_`` public key of a ``whsk_`` secret; None for an HMAC secret."""
    if key_type(secret, scheme) is not KeyType.ED25519:
        return None
    raw = _signing_key(secret).public_key().public_bytes_raw()
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode()


def secret_problem(secret: str, scheme: Scheme) -> str | None:
    """Why this secret cannot be used with this scheme, or None when it can."""
    if secret.startswith(PRIVATE_KEY_PREFIX):
        if scheme is not Scheme.STANDARD:
            return "a whsk_ (Ed25519) key signs only with the standard scheme"
        try:
            _ed25519_key(secret)
        except ValueError as exc:
            return str(exc)
        return None
    if scheme is Scheme.STANDARD:
        if not secret.startswith(SECRET_PREFIX):
            return "a standard-scheme secret must start with whsec_ (HMAC) or whsk_ (Ed25519)"
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
def _hmac_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret: the base64 after the prefix, as the Standard
    Webhooks libraries read it (padding optional)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX) + "==")


@lru_cache(maxsize=4096)
def _signing_key(secret: str) -> Ed25519PrivateKey:
    return _ed25519_key(secret)


def sign_standard(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one entry per secret, ``v1,…`` for an HMAC
    secret and ``v1a,…`` for an Ed25519 key."""
    prefix = f"{msg_id}.{timestamp}.".encode()
    entries = []
    for secret in secrets:
        if key_type(secret) is KeyType.ED25519:
            signature = _signing_key(secret).sign(prefix + body)
            entries.append("v1a," + base64.b64encode(signature).decode())
        else:
            # The HMAC over id.timestamp.body, fed in two parts: the body is not copied
            # (standardwebhooks' sign takes text and builds the whole string, three
            # copies of a large body).
            mac = hmac.new(_hmac_key(secret), prefix, hashlib.sha256)
            mac.update(body)
            entries.append("v1," + base64.b64encode(mac.digest()).decode())
    return " ".join(entries)


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
