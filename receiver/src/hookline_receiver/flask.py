"""Flask helpers.

>>> app.add_url_rule("/hooks", view_func=webhook_view(Verifier(secret), handle),
...                  methods=["POST"])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request

from hookline_receiver._handling import DONE, Answer, admit
from hookline_receiver._idempotency import Deduplicator
from hookline_receiver._verify import Verifier

__all__ = ["webhook_view"]


def webhook_view(
    verifier: Verifier,
    handler: Callable[[Any], Any],
    *,
    dedupe: Deduplicator | None = None,
    name: str = "hookline_webhook",
) -> Callable[[], Any]:
    """A view that verifies, skips duplicates (with ``dedupe``) and calls
    ``handler(event)``. What the handler returns is the response (None: 200). If it
    raises, the id is forgotten and the error propagates (a 500), so Hookline retries."""

    def view() -> Any:
        admitted = admit(
            verifier, dedupe, request.get_data(cache=True), dict(request.headers.items())
        )
        if isinstance(admitted, Answer):
            return _json(admitted)
        try:
            result = handler(admitted.event)
        except BaseException:
            if dedupe is not None:
                dedupe.release(admitted.webhook_id)
            raise
        return _json(DONE) if result is None else result

    view.__name__ = name
    return view


def _json(answer: Answer) -> Response:
    response = jsonify(answer.body)
    response.status_code = answer.status
    return response
