"""Cursor pagination over time-sortable ids, newest first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.domain.models import Page

T = TypeVar("T")


async def fetch_page(
    conn: AsyncConnection,
    stmt: sa.Select[Any],
    id_column: sa.ColumnElement[str],
    *,
    cursor: str | None,
    limit: int,
    convert: Callable[[sa.Row[Any]], T],
) -> Page[T]:
    """Rows older than ``cursor`` (an id), at most ``limit``; ``next_cursor`` when more."""
    if cursor:
        stmt = stmt.where(id_column < cursor)
    rows: Sequence[sa.Row[Any]] = (
        await conn.execute(stmt.order_by(id_column.desc()).limit(limit + 1))
    ).all()
    items = [convert(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=str(rows[limit - 1].id) if more and limit else None)
