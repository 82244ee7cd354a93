"""``Idempotency-Key`` for every POST of the native API, in one place.

Sits inside the body limit (so the body is already bounded) and in front of every
router, so routes added later are covered without doing anything. The key is scoped to
the caller; a request whose credentials do not check out passes through to be refused
by the route as usual.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline.api import errors
from hookline.api.svix import wire
from hookline.errors import HooklineError
from hookline.services.idempotent_requests import fingerprint
from hookline.system import System

REPLAYED_HEADER = b"idempotent-replayed"
# Callbacks authenticate by a token in the path, not by an account's key.
EXEMPT_PREFIXES = ("/v1/callbacks/",)


class IdempotentPosts:
    def __init__(self, app: ASGIApp, system: System) -> None:
        self.app = app
        self.system = system

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _covered(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        service = self.system.idempotent_requests
        try:
            principal = await self.system.accounts.authenticate(headers.get("authorization"))
        except HooklineError:
            await self.app(scope, receive, send)
            return
        owner = principal.account_id or "admin"
        body, complete = await _read_body(receive)
        if not complete:
            return  # the client went away
        request_print = fingerprint(
            scope["method"], scope["path"], scope.get("query_string", b""), body
        )
        try:
            replay = await service.begin(owner, key, request_print)
        except HooklineError as exc:
            status = errors.status_for(exc)
            if wire.is_svix(scope["path"]):
                answer = wire.refusal(status, exc.code, exc.message)
            else:
                answer = errors.error_response(status, exc.message, exc.code)
            await answer(scope, receive, send)
            return
        if replay is not None:
            raw = [(REPLAYED_HEADER, b"true"), (b"content-length", b"%d" % len(replay.body))]
            if replay.content_type:
                raw.append((b"content-type", replay.content_type.encode("latin-1")))
            await send(
                {"type": "http.response.start", "status": replay.status_code, "headers": raw}
            )
            await send({"type": "http.response.body", "body": replay.body})
            return

        status = 0
        content_type: str | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = Headers(raw=message.get("headers", [])).get("content-type")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        replayed = False

        async def replay_body() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            await service.abandon(owner, key)
            raise
        # A server-side failure is not an answer to keep: a retry should run again.
        if 0 < status < 500:
            await service.finish(owner, key, status, content_type, b"".join(chunks))
        else:
            await service.abandon(owner, key)


def _covered(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    path: str = scope["path"]
    # /api/v1/ is the Svix-compatible API, whose SDKs send a key with every POST.
    return path.startswith(("/v1/", "/api/v1/")) and not path.startswith(EXEMPT_PREFIXES)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True
