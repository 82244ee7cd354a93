"""The input guard: every request's path, query and JSON body meet :mod:`hookline.api.limits`
before any route runs, so no route (including ones added later) sees what it cannot store.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline.api import errors, parsed
from hookline.api.limits import Problem, Refusal, bad_parameter, invalid_string, parse_json

# Methods whose bodies BodyLimit reads and bounds; the routes of the others take none.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI would read a body with this content type as JSON (it does when
    there is none, for ``application/json`` and for ``application/*+json``)."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


class InputGuard:
    """Answer 4xx with a stable code for a request that breaks the input limits."""

    def __init__(self, app: ASGIApp, max_json_depth: int) -> None:
        self.app = app
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self._target_problem(scope)
        if problem is not None:
            await _refuse(problem, scope, receive, send)
            return
        if scope["method"] not in BODY_METHODS or not is_json(_content_type(scope)):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        del chunks  # not held beside the joined body while the request runs
        if body.strip():
            try:
                parsed.keep(scope, body, parse_json(body, self.max_json_depth))
            except Refusal as exc:
                await _refuse(exc.problem, scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _target_problem(scope: Scope) -> Problem | None:
        if "\x00" in scope["path"]:
            return invalid_string("the path")
        query = scope.get("query_string", b"")
        if query:
            # Parsed exactly as routes will see the parameters.
            name = bad_parameter(QueryParams(query).multi_items())
            if name is not None:
                return invalid_string(f"query parameter {name}")
        return None


def _content_type(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1"))
    return None


async def _refuse(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
    response = errors.error_response(problem.status, problem.message, problem.code)
    await response(scope, receive, send)
