"""Starlette and FastAPI helpers.

>>> app.add_route("/hooks", webhook_endpoint(Verifier(secret), handle), methods=["POST"])

or, in FastAPI, a dependency that gives the verified event (400 when it does not verify):

>>> @app.post("/hooks")
... async def hooks(event: Annotated[dict, Depends(verified_event(Verifier(secret)))]): ...
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hookline_receiver._handling import DONE, Answer, admit
from hookline_receiver._idempotency import Deduplicator
from hookline_receiver._verify import InvalidSignature, Verifier

Handler = Callable[[Any], Any]

__all__ = ["verified_event", "webhook_endpoint"]


def webhook_endpoint(
    verifier: Verifier, handler: Handler, *, dedupe: Deduplicator | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that verifies, skips duplicates (with ``dedupe``) and calls
    ``handler(event)`` (sync or async). A Response the handler returns is sent; otherwise
    200. If the handler raises, the id is forgotten and the error propagates (a 500),
    so Hookline retries."""

    async def endpoint(request: Request) -> Response:
        admitted = admit(verifier, dedupe, await request.body(), request.headers)
        if isinstance(admitted, Answer):
            return JSONResponse(admitted.body, status_code=admitted.status)
        try:
            result = handler(admitted.event)
            if inspect.isawaitable(result):
                result = await result
        except BaseException:
            if dedupe is not None:
                dedupe.release(admitted.webhook_id)
            raise
        if isinstance(result, Response):
            return result
        return JSONResponse(DONE.body, status_code=DONE.status)

    return endpoint


def verified_event(verifier: Verifier) -> Callable[[Request], Awaitable[Any]]:
    """A FastAPI dependency: the verified event, or HTTP 400."""

    async def dependency(request: Request) -> Any:
        try:
            return verifier.verify(await request.body(), request.headers)
        except InvalidSignature as exc:
            raise HTTPException(400, str(exc)) from None

    return dependency
