"""API keys: random, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "hk_"


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """Keys carry 256 random bits, so a fast digest is enough; no salt is needed."""
    return hashlib.sha256(key.encode()).hexdigest()
