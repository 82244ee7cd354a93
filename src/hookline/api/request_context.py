"""A request id for every request (``X-Request-Id``, the caller's if it sent a usable
one), bound for the request's log lines, and one access line per request at DEBUG."""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline import logs, tracing

log = logging.getLogger("hookline.access")

HEADER = "x-request-id"
_USABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(HEADER, "")
        request_id = given if _USABLE.fullmatch(given) else "req_" + secrets.token_hex(12)
        token = logs.scope(request_id=request_id)
        started = time.perf_counter()
        status = 0

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            with tracing.server_span(scope["method"], scope["path"], Headers(scope=scope)) as span:
                await self.app(scope, receive, tagged)
                if span is not None:
                    route = scope.get("route")
                    if route is not None and hasattr(route, "path"):
                        span.update_name(f"{scope['method']} {route.path}")
                        span.set_attribute("http.route", route.path)
                    span.set_attribute("http.response.status_code", status)
        finally:
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s %s %d %.1f ms",
                    scope["method"],
                    scope["path"],
                    status,
                    (time.perf_counter() - started) * 1000,
                )
            logs.reset(token)
