"""Event types and the patterns webhooks subscribe with.

A pattern is an exact event type (``invoice.paid``), ``*`` for everything, or a family
prefix ending in ``.*`` (``task.*`` matches ``task.done`` and ``task.step.done`` but not
``task`` itself nor ``taskforce.x``). A webhook with no patterns receives everything.

Hookline's own operational events (``hookline.…``) are the exception: only a pattern
that names them (``hookline.*``, ``hookline.delivery.*`` or an exact type) selects them;
``*`` and an empty pattern list do not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EVENT_TYPE = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")
PATTERN = re.compile(r"^(\*|[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*(\.\*)?)$")
MAX_LENGTH = 255
OPERATIONAL_PREFIX = "hookline."


def is_valid_event_type(name: str) -> bool:
    return len(name) <= MAX_LENGTH and bool(EVENT_TYPE.fullmatch(name))


def is_valid_pattern(pattern: str) -> bool:
    return len(pattern) <= MAX_LENGTH and bool(PATTERN.fullmatch(pattern))


def matches(pattern: str, event_type: str) -> bool:
    """Whether one pattern selects this event type."""
    if pattern == "*":
        return not event_type.startswith(OPERATIONAL_PREFIX)
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def subscribes(patterns: Iterable[str] | None, event_type: str) -> bool:
    """Whether a webhook with these patterns receives this event type."""
    if not patterns:
        return not event_type.startswith(OPERATIONAL_PREFIX)
    return any(matches(p, event_type) for p in patterns)
