"""Prefixed, time-sortable identifiers.

An id is a prefix (``msg_``, ``ep_`` …) followed by 26 Crockford base32 characters:
48 bits of milliseconds since the epoch, then 80 random bits. Ids of one kind sort by
creation time, which is what cursors and ``ORDER BY id`` rely on.
"""

from __future__ import annotations

import os
import re

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BODY = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")

PREFIXES = frozenset(
    {
        "acct",
        "app",
        "key",
        "ep",
        "msg",
        "dlv",
        "atmpt",
        "api",
        "call",
        "led",
        "job",
        "evtype",
        "src",
        "sess",  # a console or portal session
        "ptok",  # a portal link
    }
)


def new_id(prefix: str, now_ms: int, randomness: bytes | None = None) -> str:
    """Return ``{prefix}_{ulid}`` for the given time in milliseconds."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    rand = randomness if randomness is not None else os.urandom(10)
    if len(rand) != 10:
        raise ValueError("randomness must be 10 bytes")
    value = ((now_ms & 0xFFFF_FFFF_FFFF) << 80) | int.from_bytes(rand, "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def id_time_ms(value: str) -> int:
    """The millisecond timestamp an id was made with."""
    body = value.split("_", 1)[1]
    number = 0
    for ch in body[:10]:
        number = number * 32 + _ALPHABET.index(ch)
    return number  # 10 chars hold 50 bits: two leading zero bits, then the 48-bit time


def is_valid_id(value: str, prefix: str) -> bool:
    """True when ``value`` looks like an id of this kind (cheap syntax check only)."""
    head, sep, body = value.partition("_")
    return sep == "_" and head == prefix and bool(_BODY.fullmatch(body))


def lowest_id(prefix: str, now_ms: int) -> str:
    """The smallest id of this kind made at ``now_ms``: a time bound usable as an id bound
    (``id >= lowest_id(since)`` is "made at or after since")."""
    return new_id(prefix, max(0, now_ms), bytes(10))
