"""The event catalog (console only): the account's event types, one type's schema and
example, and a form to register a type."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends
from starlette.responses import Response

from hookline.console.registry import PAGES
from hookline.console.web import Page, page
from hookline.errors import Conflict, InvalidInput

PAGE_SIZE = 50
MAX_CURSOR = 64


class _BadJson(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _parse(field: str, text: str) -> Any:
    """A JSON textarea: empty means none."""
    if not text.strip():
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _BadJson(f"{field} is not valid JSON: {exc}") from None


async def _list(
    p: Page, *, status: int = 200, form: dict[str, str] | None = None, error: str | None = None
) -> Response:
    cursor = p.request.query_params.get("cursor") or None
    if cursor is not None and len(cursor) > MAX_CURSOR:
        raise InvalidInput("cursor is too long", code="invalid_cursor")
    found = await p.system.event_types.list_page(
        p.account_id, prefix=None, include_archived=True, cursor=cursor, limit=PAGE_SIZE
    )
    return p.render(
        "event_types/list.html",
        status=status,
        nav="event_types",
        types=found.items,
        next_cursor=found.next_cursor,
        cursor=cursor or "",
        form=form or {"name": "", "description": "", "schema": "", "example": ""},
        error=error,
    )


@PAGES.get("/event-types")
async def event_types(p: Annotated[Page, Depends(page)]) -> Response:
    return await _list(p)


@PAGES.post("/event-types")
async def create_event_type(p: Annotated[Page, Depends(page)]) -> Response:
    """Register a type, as POST /v1/event-types does; a refused one comes back in the
    form with the reason."""
    form = {k: p.form.get(k) for k in ("name", "description", "schema", "example")}
    name = form["name"].strip()
    try:
        schema = _parse("Schema", form["schema"])
        example = _parse("Example", form["example"])
        await p.system.event_types.create(
            p.account_id, name, description=form["description"], schema=schema, example=example
        )
    except _BadJson as exc:
        return await _list(p, status=422, form=form, error=exc.message)
    except InvalidInput as exc:
        return await _list(p, status=422, form=form, error=exc.message)
    except Conflict as exc:
        return await _list(p, status=409, form=form, error=exc.message)
    return p.redirect(f"/event-types/{name}", flash="event_type_saved")


@PAGES.get("/event-types/{name}")
async def event_type(name: str, p: Annotated[Page, Depends(page)]) -> Response:
    found = await p.system.event_types.get(p.account_id, name)
    return p.render("event_types/detail.html", nav="event_types", et=found)
