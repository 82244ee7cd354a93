"""What every framework helper does around the application's handler: verify, skip
duplicates, run, and forget the id again if the handler failed (so the retry runs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hookline_receiver._idempotency import Deduplicator
from hookline_receiver._verify import InvalidSignature, Verifier


@dataclass(frozen=True, slots=True)
class Answer:
    """The response a helper sends when the handler does not run or returns nothing."""

    status: int
    body: dict[str, Any]


DONE = Answer(200, {"ok": True})


@dataclass(frozen=True, slots=True)
class Admitted:
    event: Any
    webhook_id: str | None


def admit(
    verifier: Verifier, dedupe: Deduplicator | None, body: bytes, headers: Mapping[str, str]
) -> Admitted | Answer:
    """The verified event to handle, or the answer to send instead of handling it."""
    try:
        event = verifier.verify(body, headers)
    except InvalidSignature as exc:
        return Answer(400, {"error": str(exc), "code": "invalid_signature"})
    webhook_id = {k.lower(): v for k, v in headers.items()}.get("webhook-id")
    if dedupe is not None and not dedupe.claim(webhook_id):
        return Answer(200, {"ok": True, "duplicate": True})
    return Admitted(event, webhook_id)
