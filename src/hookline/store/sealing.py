"""Secrets at rest: sealed (encrypted and authenticated) with Fernet before they reach
the database, opened when read.

What is sealed: webhook signing secrets (current and rotating-out), the gateway's
signing secrets and custom header values. Stored values carry a prefix that says what
they are: ``fernet:<token>`` (sealed), or ``plain:<text>`` (written by a version before
sealing and marked by migration 0003; sealed at the next start, see
:meth:`hookline.store.secrets.SecretRepository.seal_legacy`).

Keys are Fernet keys (32 random bytes, URL-safe base64). Several may be given, newest
first: the newest seals, all of them open, so a key can be rotated without downtime.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hookline.errors import SecretsUnreadable

SEALED = "fernet:"
LEGACY = "plain:"
# Sealed values opened lately, kept per Sealer: every publish reads its webhooks' secrets
# and headers, and opening a token (HMAC check, then AES) cost more than the rest of
# reading the row.
OPENED_KEPT = 4096


class InvalidSecretKey(ValueError):
    """A configured key is not a Fernet key (the message never repeats the key)."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def parse_keys(text: str) -> tuple[str, ...]:
    """Keys from a comma- or newline-separated list, newest first."""
    keys = tuple(k.strip() for k in text.replace("\n", ",").split(",") if k.strip())
    if not keys:
        raise InvalidSecretKey("no key given")
    for n, key in enumerate(keys, 1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeError):
            raw = b""
        if len(raw) != 32:
            raise InvalidSecretKey(
                f"key {n} is not a Fernet key (32 bytes in URL-safe base64; "
                "`hookline secrets generate-key` makes one)"
            )
    return keys


class Sealer:
    """Seals with the newest key, opens with any of them. Never shows a key."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise InvalidSecretKey("no key given")
        self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in keys])
        self.key_count = len(keys)
        # Token -> plaintext. A token is immutable and this Sealer's keys never change,
        # so a token that opened once opens to the same text for as long as it lives; a
        # changed secret is a new token. Tokens that fail to open are never kept.
        self._opened: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Sealer(keys={self.key_count})"

    def seal(self, plaintext: str) -> str:
        return SEALED + self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, stored: str) -> str:
        if stored.startswith(SEALED):
            opened = self._opened.get(stored)
            if opened is not None:
                return opened
            try:
                opened = self._fernet.decrypt(stored[len(SEALED) :].encode("ascii")).decode("utf-8")
            except InvalidToken:
                raise SecretsUnreadable() from None
            if len(self._opened) >= OPENED_KEPT:
                self._opened.clear()
            self._opened[stored] = opened
            return opened
        if stored.startswith(LEGACY):
            return stored[len(LEGACY) :]
        # Neither prefix: a value no version of Hookline wrote. Refuse rather than guess.
        raise SecretsUnreadable("a stored secret is in an unknown format")


def is_legacy(stored: str) -> bool:
    return stored.startswith(LEGACY)
