"""The one table that maps Hookline errors to HTTP, and the handlers that apply it.

Every error body is ``{"error": <human message>, "code": <stable code>}``; validation
errors add ``"details"``. Nothing but Hookline's own messages reaches a client: anything
unexpected is logged and answered with a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from hookline import errors
from hookline.api.responses import JSON

log = logging.getLogger("hookline.api")

STATUS: dict[type[errors.HooklineError], int] = {
    errors.NotFound: 404,
    errors.InvalidInput: 422,
    errors.Conflict: 409,
    errors.AuthenticationFailed: 401,
    errors.PermissionDenied: 403,
    errors.PayloadTooLarge: 413,
    errors.StoreUnavailable: 503,
}


def error_response(status: int, message: str, code: str, **extra: Any) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": "1"}
    return JSON({"error": message, "code": code, **extra}, status_code=status, headers=headers)


def status_for(exc: errors.HooklineError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


async def _hookline(_req: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.HooklineError)
    status = status_for(exc)
    if isinstance(exc, errors.StoreUnavailable):
        # One line each: an outage answers many requests, and the cause says enough.
        log.warning("%s: %s", exc.code, exc.__cause__ or exc)
    elif status >= 500:
        log.warning("%s: %s", exc.code, exc, exc_info=exc.__cause__)
    return error_response(status, exc.message, exc.code)


async def _validation(_req: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return error_response(400, "the body is not valid JSON", "invalid_json")
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


async def _http(_req: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "route_not_found", 405: "method_not_allowed", 400: "bad_request"}
    message = "no such route" if exc.status_code == 404 else str(exc.detail)
    return error_response(exc.status_code, message, codes.get(exc.status_code, "http_error"))


async def _unexpected(_req: Request, exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc)
    return error_response(500, "internal error", "internal_error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.HooklineError, _hookline)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
