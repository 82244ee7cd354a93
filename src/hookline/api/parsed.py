"""The body as the input guard read and parsed it, handed on to the routes.

The guard (:mod:`hookline.api.guard`) reads every JSON body whole and parses it to check
it. It leaves both in the request's scope, and routes built with :class:`GuardedRoute`
read them from there: FastAPI neither reads the body again nor parses it a second time
(with Python's slower parser, into a second copy of every string in it). A request the
guard did not parse (not JSON, or an empty body) is read by FastAPI as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

BODY = "hookline.body"
JSON = "hookline.json"


def keep(scope: Scope, body: bytes, value: Any) -> None:
    """What the guard read and what it parsed that body into."""
    scope[BODY] = body
    scope[JSON] = value


class GuardedRequest(Request):
    async def body(self) -> bytes:
        kept: bytes | None = self.scope.get(BODY)
        return await super().body() if kept is None else kept

    async def json(self) -> Any:
        if JSON in self.scope:
            return self.scope[JSON]
        return await super().json()


class GuardedRoute(APIRoute):
    """A route whose request reads the guard's body and parse (FastAPI's documented
    way to give a route its own request class)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(GuardedRequest(request.scope, request.receive))

        return route
