"""The one table that maps Hookline errors to HTTP, and the handlers that apply it.

Every error body is ``{"error": <human message>, "code": <stable code>}``; validation
errors add ``"details"``. Nothing but Hookline's own messages reaches a client: anything
unexpected is logged and answered with a bare 500.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from hookline import errors
from hookline.api.limits import Refusal
from hookline.api.responses import JSON
from hookline.api.svix import wire
from hookline.api.svix.wire import NotSupported
from hookline.console import web

log = logging.getLogger("hookline.api")

STATUS: dict[type[errors.HooklineError], int] = {
    errors.NotFound: 404,
    errors.InvalidInput: 422,
    errors.Conflict: 409,
    errors.AuthenticationFailed: 401,
    errors.PermissionDenied: 403,
    errors.PayloadTooLarge: 413,
    errors.StoreUnavailable: 503,
    errors.SecretsUnreadable: 503,
    errors.PaymentRequired: 402,
    errors.QuotaExceeded: 429,
    NotSupported: 501,
}


def error_response(
    status: int,
    message: str,
    code: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 503:
        headers["Retry-After"] = "1"
    return JSON({"error": message, "code": code, **extra}, status_code=status, headers=headers)


def status_for(exc: errors.HooklineError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _page(req: Request) -> bool:
    """A console or portal page: errors there are answered as pages, not JSON."""
    path = req.url.path
    return path.startswith(("/console/", "/portal/")) or path in ("/console", "/portal")


async def _hookline(req: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.HooklineError)
    if _page(req):
        status = _logged(exc)
        return web.error_page(req, status, exc.message, exc.code)
    if wire.is_svix(req.url.path):
        status = _logged(exc)
        return wire.refusal(status, exc.code, exc.message, _headers(status))
    return refusal(exc)


def refusal(exc: errors.HooklineError) -> Response:
    """The native API's answer to a Hookline error, logged as every handler logs it."""
    status = _logged(exc)
    if exc.details is not None:
        return error_response(status, exc.message, exc.code, details=exc.details)
    return error_response(status, exc.message, exc.code)


def _logged(exc: errors.HooklineError) -> int:
    status = status_for(exc)
    if isinstance(exc, errors.StoreUnavailable):
        # One line each: an outage answers many requests, and the cause says enough.
        log.warning("%s: %s", exc.code, exc.__cause__ or exc)
    elif status >= 500:
        log.warning("%s: %s", exc.code, exc, exc_info=exc.__cause__)
    return status


def _headers(status: int) -> dict[str, str]:
    return {"WWW-Authenticate": "Bearer"} if status == 401 else {}


async def _validation(req: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        if wire.is_svix(req.url.path):
            return wire.error(400, "invalid_json", "the body is not valid JSON")
        return error_response(400, "the body is not valid JSON", "invalid_json")
    if wire.is_svix(req.url.path):
        return wire.validation_error(problems)
    if _page(req):
        first_problem = problems[0] if problems else {}
        where = ".".join(str(part) for part in first_problem.get("loc", ())[1:])
        text = f"{where}: {first_problem.get('msg', '')}" if where else "invalid request"
        return web.error_page(req, 422, text, "validation_error")
    details = [
        {"loc": [str(part) for part in p.get("loc", ())], "message": p.get("msg", "")}
        for p in problems
    ]
    first = details[0] if details else {"loc": [], "message": "invalid request"}
    where = ".".join(first["loc"][1:] if len(first["loc"]) > 1 else first["loc"])
    return error_response(
        422,
        f"{where}: {first['message']}" if where else str(first["message"]),
        "validation_error",
        details=details,
    )


async def _http(req: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "route_not_found", 405: "method_not_allowed", 400: "bad_request"}
    message = "no such route" if exc.status_code == 404 else str(exc.detail)
    headers = dict(exc.headers or {})
    allowed = allowed_methods(req) if exc.status_code == 405 else []
    if allowed:  # else Starlette's own Allow stands (a route outside the document)
        headers["Allow"] = ", ".join(allowed)
    if wire.is_svix(req.url.path):
        return wire.error(
            exc.status_code, codes.get(exc.status_code, "http_error"), message, headers
        )
    if _page(req) and exc.status_code in (404, 405):
        text = "There is no such page." if exc.status_code == 404 else message
        return web.error_page(req, exc.status_code, text, codes[exc.status_code])
    return error_response(
        exc.status_code, message, codes.get(exc.status_code, "http_error"), headers
    )


def allowed_methods(req: Request) -> list[str]:
    """The methods the OpenAPI document gives the most specific path template matching
    this path (fewest parameters: ``POST /v1/events/batch``, not ``GET
    /v1/events/{event_id}``). Starlette would name only the first matching route's."""
    path = req.scope["path"][len(req.scope.get("root_path", "")) :]
    found: list[tuple[int, list[str]]] = []
    for template, operations in req.app.openapi().get("paths", {}).items():
        if _template(template).fullmatch(path):
            found.append((template.count("{"), [m.upper() for m in operations]))
    if not found:
        return []
    fewest = min(count for count, _ in found)
    return sorted({m for count, methods in found if count == fewest for m in methods})


@functools.cache
def _template(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)))


async def _refusal(req: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refusal)
    if wire.is_svix(req.url.path):
        return wire.refusal(exc.problem.status, exc.problem.code, exc.problem.message)
    return error_response(exc.problem.status, exc.problem.message, exc.problem.code)


async def _unexpected(req: Request, exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc)
    if _page(req):
        return web.error_page(req, 500, "Something went wrong on the server.", "internal_error")
    if wire.is_svix(req.url.path):
        return wire.error(500, "internal_error", "internal error")
    return error_response(500, "internal error", "internal_error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.HooklineError, _hookline)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Refusal, _refusal)
    app.add_exception_handler(Exception, _unexpected)
