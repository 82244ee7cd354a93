"""The Svix wire format, shared by every resource of ``/api/v1``.

Bodies are camelCase; lists are ``{"data", "iterator", "prevIterator", "done"}`` (the
iterator is Hookline's cursor); errors are ``{"code", "detail"}``, and validation errors
``{"detail": [{"loc", "msg", "type"}]}``. Times are ISO 8601 in UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from starlette.responses import Response

from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON, ts
from hookline.domain.models import Page
from hookline.errors import HooklineError

PREFIX = "/api/v1"
T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=250)]
Iterator = Annotated[str | None, Query(max_length=64)]


class NotSupported(HooklineError):
    """This Svix feature is not supported by Hookline."""

    code = "not_supported"


class Camel(BaseModel):
    """A request body in Svix's camelCase; fields Hookline does not use are ignored,
    so newer SDKs keep working."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


def router(prefix: str = "") -> APIRouter:
    # Not in Hookline's OpenAPI document: this surface's contract is Svix's API, and
    # the native document describes Hookline's own (docs/svix.md).
    return APIRouter(
        route_class=GuardedRoute, prefix=PREFIX + prefix, include_in_schema=False, tags=["svix"]
    )


def is_svix(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def error(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSON({"code": code, "detail": detail}, status_code=status, headers=headers)


def refusal(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    """A Hookline error in Svix's shapes: the SDKs read every 422 as a list of
    problems, and anything else as ``{"code", "detail"}``."""
    if status == 422:
        return validation_error([{"loc": ["body"], "msg": detail, "type": code}])
    return error(status, code, detail, headers)


def validation_error(problems: Sequence[dict[str, Any]]) -> Response:
    detail = [
        {
            "loc": [str(part) for part in p.get("loc", ())],
            "msg": str(p.get("msg") or p.get("message") or "invalid"),
            "type": str(p.get("type") or "value_error"),
        }
        for p in problems
    ]
    return JSON({"detail": detail}, status_code=422)


def listing(items: list[T], page: Page[Any], convert: Callable[[T], dict[str, Any]]) -> JSON:
    return JSON(
        {
            "data": [convert(i) for i in items],
            "iterator": page.next_cursor,
            "prevIterator": None,
            "done": page.next_cursor is None,
        }
    )


def when(value: datetime | None) -> str | None:
    return ts(value)


def unsupported(what: str) -> NotSupported:
    return NotSupported(
        f"{what} is not supported by Hookline (see docs/svix.md)", code="not_supported"
    )


def no_content() -> Response:
    return Response(status_code=204)
