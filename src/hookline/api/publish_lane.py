"""``POST /v1/events`` served in front of the framework when its input is valid.

The single publish is the hottest request there is, and most of its CPU time went to the
framework around it: routing, resolving the route's dependencies (system, bearer scheme,
principal, account, header, body) and its exception middleware. The lane sits innermost
of the middlewares, after the input guard has bounded and parsed the body and the
idempotency of POSTs has had its say, and does the route's work in one pass: it reads
the two headers the route reads, authenticates once, checks the body with the route's
own model and hands it to the route's own function (:func:`publish_one`).

It answers only what it can answer exactly as the route would. Whatever the route would
refuse with a validation error (a body that does not fit the model, an idempotency key
too long, a body the guard did not parse) goes on to the route untouched, which then
answers it with its usual details; a Hookline error (a bad key, an admin key, an unknown
application) is answered by the same table the route's handlers use. The route stays
what the OpenAPI document describes, and serves the requests the lane passes on.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from hookline import logs
from hookline.api import errors, parsed
from hookline.api.routes.events import publish_one
from hookline.api.schemas import EventCreate
from hookline.errors import HooklineError
from hookline.system import System

PATH = "/v1/events"
# The route's own limit on the header (``Header(max_length=255)``).
MAX_KEY = 255


class PublishLane:
    def __init__(self, app: ASGIApp, system: System, route: APIRoute) -> None:
        self.app = app
        self.system = system
        # Set on the scope as the router would, for the trace's route name.
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        value: Any = scope.get(parsed.JSON)
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "POST"
            or scope.get("root_path")
            or type(value) is not dict
        ):
            await self.app(scope, receive, send)
            return
        authorization: str | None = None
        key: str | None = None
        content_type: bytes | None = None
        for name, raw in scope["headers"]:
            # The first of each, as the route's ``request.headers.get`` reads them.
            if name == b"authorization":
                if authorization is None:
                    authorization = raw.decode("latin-1")
            elif name == b"idempotency-key":
                if key is None:
                    key = raw.decode("latin-1")
            elif name == b"content-type" and content_type is None:
                content_type = raw
        if not content_type:
            # The guard parses such a body to check it; the route reads it as bytes.
            await self.app(scope, receive, send)
            return
        try:
            who = await self.system.accounts.authenticate(authorization)
            account = who.require_account()
        except HooklineError as exc:
            await errors.refusal(exc)(scope, receive, send)
            return
        logs.annotate(account_id=account)
        body = None if key is not None and len(key) > MAX_KEY else _checked(value)
        if body is None:
            await self.app(scope, receive, send)  # the route says what is wrong
            return
        scope["route"] = self.route
        try:
            response = await publish_one(self.system, account, body, key)
        except HooklineError as exc:
            response = errors.refusal(exc)
        await response(scope, receive, send)


def _checked(value: dict[str, Any]) -> EventCreate | None:
    try:
        return EventCreate.model_validate(value)
    except ValidationError:
        return None


def publish_route(routes: list[Any]) -> APIRoute:
    """The route for ``POST /v1/events`` among a router's (the object the framework sets on
    the scope when it serves it)."""
    for route in routes:
        if isinstance(route, APIRoute) and route.path == PATH and "POST" in (route.methods or ()):
            return route
    raise LookupError(PATH)
