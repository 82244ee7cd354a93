"""Verify Hookline webhooks (and any Standard Webhooks sender's) in your own application.

>>> from hookline_receiver import Verifier
>>> event = Verifier(secret).verify(body, headers)   # raises InvalidSignature
>>> event = Verifier("whpk_…").verify(body, headers)  # v1a: the sender's public key

Exceptions::

    InvalidSignature        the request was not signed with this secret, or is too old

Framework helpers live in ``hookline_receiver.starlette`` (FastAPI too),
``hookline_receiver.flask`` and ``hookline_receiver.aiohttp``; they import their
framework only when used. Nothing here needs more than the standard library, except
v1a (Ed25519) checks, which need ``cryptography`` (the ``ed25519`` extra).
"""

from __future__ import annotations

from hookline_receiver._idempotency import Deduplicator, MemoryStore, SeenStore
from hookline_receiver._verify import (
    DEFAULT_TOLERANCE,
    InvalidSignature,
    Verifier,
    sign,
    verify,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_TOLERANCE",
    "Deduplicator",
    "InvalidSignature",
    "MemoryStore",
    "SeenStore",
    "Verifier",
    "__version__",
    "sign",
    "verify",
]
