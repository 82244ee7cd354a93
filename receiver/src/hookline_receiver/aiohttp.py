"""aiohttp helpers.

>>> app.router.add_post("/hooks", webhook_handler(Verifier(secret), handle))
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from hookline_receiver._handling import DONE, Answer, admit
from hookline_receiver._idempotency import Deduplicator
from hookline_receiver._verify import Verifier

__all__ = ["webhook_handler"]


def webhook_handler(
    verifier: Verifier, handler: Callable[[Any], Any], *, dedupe: Deduplicator | None = None
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A request handler that verifies, skips duplicates (with ``dedupe``) and calls
    ``handler(event)`` (sync or async). A response the handler returns is sent;
    otherwise 200. If it raises, the id is forgotten and the error propagates (a 500)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        admitted = admit(verifier, dedupe, await request.read(), request.headers)
        if isinstance(admitted, Answer):
            return web.json_response(admitted.body, status=admitted.status)
        try:
            result = handler(admitted.event)
            if inspect.isawaitable(result):
                result = await result
        except BaseException:
            if dedupe is not None:
                dedupe.release(admitted.webhook_id)
            raise
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(DONE.body, status=DONE.status)

    return handle
