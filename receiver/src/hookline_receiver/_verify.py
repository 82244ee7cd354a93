"""Signature checks for both schemes Hookline signs with.

Standard Webhooks signatures come in two kinds: ``v1`` (HMAC-SHA256, checked with the
shared ``whsec_`` secret) and ``v1a`` (Ed25519, checked with the sender's ``whpk_``
public key). Ed25519 needs the ``cryptography`` package (the ``ed25519`` extra); it is
imported only when a ``whpk_`` key is given.
"""

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


PUBLIC_KEY_PREFIX = "whpk_"


def _public_key(key: str) -> Any:
    """The Ed25519 public key of a ``whpk_`` string."""
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        raise ValueError(
            "verifying v1a (Ed25519) signatures needs the cryptography package: "
            "pip install 'hookline-receiver[ed25519]'"
        ) from None
    try:
        raw = base64.b64decode(key.removeprefix(PUBLIC_KEY_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a public key is whpk_ followed by base64") from None
    if len(raw) != 32:
        raise ValueError("a whpk_ public key decodes to 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def _standard_key(secret: str) -> bytes:
    if secret.startswith("whsk_"):
        raise ValueError("a receiver verifies with the whpk_ public key, not the whsk_ private key")
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
    Pass ``secrets`` instead of ``secret`` to accept several during a rotation. A
    ``whpk_…`` public key checks ``v1a`` (Ed25519) signatures; HMAC secrets and public
    keys may be mixed, for a rotation from one kind to the other.
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
        if header is not None and any(s.startswith(PUBLIC_KEY_PREFIX) for s in self.secrets):
            raise ValueError("a whpk_ public key checks Standard Webhooks (v1a) signatures only")
        standard = () if header is not None else self.secrets
        self._keys = [_standard_key(s) for s in standard if not s.startswith(PUBLIC_KEY_PREFIX)]
        self._public_keys = [_public_key(s) for s in standard if s.startswith(PUBLIC_KEY_PREFIX)]

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
        entries = [p.split(",", 1) for p in headers.get("webhook-signature", "").split()]
        given = [e[1] for e in entries if len(e) == 2 and e[0] == "v1"]
        given_a = [e[1] for e in entries if len(e) == 2 and e[0] == "v1a"]
        if not given and not given_a:
            raise InvalidSignature("missing webhook-signature")
        signed = f"{msg_id}.{stamp}.".encode() + body
        for key in self._keys:
            expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
            if any(hmac.compare_digest(expected, g) for g in given):
                return
        for public in self._public_keys:
            if any(_ed25519_valid(public, g, signed) for g in given_a):
                return
        raise InvalidSignature("no matching webhook-signature")


def _ed25519_valid(public: Any, signature: str, signed: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature as BadSignature

    try:
        public.verify(base64.b64decode(signature, validate=True), signed)
    except (BadSignature, binascii.Error, ValueError):
        return False
    return True


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
