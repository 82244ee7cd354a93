"""The ASGI application: routers, error handlers and the request body limit."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline import __version__, console
from hookline.api import errors, svix
from hookline.api.guard import InputGuard
from hookline.api.idempotency import IdempotentPosts
from hookline.api.openapi import HooklineAPI, serve_docs
from hookline.api.publish_lane import PublishLane, publish_route
from hookline.api.request_context import RequestContext
from hookline.api.responses import JSON
from hookline.api.routes import (
    accounts,
    admin,
    apis,
    applications,
    call_shapes,
    calls,
    deliveries,
    event_types,
    events,
    listen,
    money,
    portal,
    sources,
    system,
    webhooks,
)
from hookline.system import System


def create_app(sys: System) -> FastAPI:
    app = HooklineAPI(
        title="Hookline",
        version=__version__,
        default_response_class=JSON,
        docs_url=None,  # served from the package by serve_docs, never from a CDN
        redoc_url=None,
    )
    app.state.system = sys
    # Set when the server begins to stop: long-lived streams end on it.
    app.state.stopping = asyncio.Event()
    errors.install(app)
    # Requests are matched against the routers in this order, and each router passed
    # costs several microseconds: publishing, the hottest path, comes first. (No other
    # router has a path under /v1/events or /v1/deliveries that this one could take.)
    for module in (
        events,
        system,
        accounts,
        applications,
        webhooks,
        apis,
        calls,
        money,
        deliveries,
        call_shapes,
        event_types,
        listen,
        sources,
        portal,
        admin,
    ):
        app.include_router(module.router)
    for router in svix.ROUTERS:
        app.include_router(router)
    serve_docs(app)
    console.install(app)
    # The last added runs outermost: request id, body limit, input guard, then the
    # idempotency of POSTs, which so only ever stores requests that passed the guard,
    # and innermost the lane that serves valid single publishes without the framework.
    app.add_middleware(PublishLane, system=sys, route=publish_route(events.router.routes))
    app.add_middleware(IdempotentPosts, system=sys)
    app.add_middleware(InputGuard, max_json_depth=sys.settings.max_json_depth)
    app.add_middleware(BodyLimit, limit=sys.settings.max_body_bytes)
    app.add_middleware(RequestContext)
    return app


class BodyLimit:
    """Answer 413 for a request body over ``limit`` bytes, before any handler runs.

    The body (at most ``limit`` bytes) is read here and replayed to the application.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._too_large(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        del chunks  # not held beside the joined body while the request runs
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = errors.error_response(
            413, f"the request body is larger than {self.limit} bytes", "payload_too_large"
        )
        await response(scope, receive, send)
