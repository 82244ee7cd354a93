"""The catalog: APIs that owners list and consumers call."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from hookline.domain.gateway import Api, ApiStatus, Completion, RetryOn
from hookline.domain.models import Page
from hookline.store.database import Database
from hookline.store.pagination import fetch_page
from hookline.store.tables import apis


def api_from_row(row: Any, prefix: str = "") -> Api:
    m = row._mapping

    def col(name: str) -> Any:
        return m[prefix + name]

    return Api(
        id=col("id"),
        owner_id=col("owner_id"),
        name=col("name"),
        description=col("description"),
        upstream_url=col("upstream_url"),
        completion=Completion(col("completion")),
        timeout=float(col("timeout")),
        price=int(col("price")),
        public=bool(col("public")),
        max_concurrency=col("max_concurrency"),
        idempotent=bool(col("idempotent")),
        test_calls=int(col("test_calls")),
        status=ApiStatus(col("status")),
        created_at=col("created_at"),
        updated_at=col("updated_at"),
        retry_on=retry_on_from_json(col("retry_on")),
    )


def retry_on_from_json(text: str | None) -> RetryOn | None:
    if text is None:
        return None
    doc = orjson.loads(text)
    return RetryOn(tuple(doc["statuses"]), float(doc["backoff"]), int(doc["max_attempts"]))


def retry_on_to_json(r: RetryOn | None) -> str | None:
    if r is None:
        return None
    doc = {"statuses": list(r.statuses), "backoff": r.backoff, "max_attempts": r.max_attempts}
    return orjson.dumps(doc).decode()


def api_values(a: Api) -> dict[str, Any]:
    return {
        "id": a.id,
        "owner_id": a.owner_id,
        "name": a.name,
        "description": a.description,
        "upstream_url": a.upstream_url,
        "completion": a.completion.value,
        "timeout": a.timeout,
        "price": a.price,
        "public": a.public,
        "max_concurrency": a.max_concurrency,
        "idempotent": a.idempotent,
        "test_calls": a.test_calls,
        "status": a.status.value,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "retry_on": retry_on_to_json(a.retry_on),
    }


class ApiRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, api: Api) -> None:
        async with self.db.write() as conn:
            await conn.execute(apis.insert().values(**api_values(api)))

    async def get(self, api_id: str) -> Api | None:
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(apis).where(apis.c.id == api_id))).first()
        return api_from_row(row) if row else None

    async def replace(self, api: Api) -> None:
        values = api_values(api)
        for fixed in ("id", "owner_id", "created_at"):
            values.pop(fixed)
        async with self.db.write() as conn:
            await conn.execute(apis.update().where(apis.c.id == api.id).values(**values))

    async def list_owned(self, owner_id: str, *, cursor: str | None, limit: int) -> Page[Api]:
        stmt = sa.select(apis).where(
            apis.c.owner_id == owner_id, apis.c.status != ApiStatus.DELETED.value
        )
        async with self.db.read() as conn:
            return await fetch_page(
                conn, stmt, apis.c.id, cursor=cursor, limit=limit, convert=api_from_row
            )

    async def search_public(self, q: str | None, *, cursor: str | None, limit: int) -> Page[Api]:
        """Public APIs open for calls, whose name or description contains ``q``."""
        stmt = sa.select(apis).where(
            apis.c.public.is_(True), apis.c.status == ApiStatus.ACTIVE.value
        )
        if q:
            needle = q.lower()
            stmt = stmt.where(
                sa.or_(
                    sa.func.lower(apis.c.name).contains(needle, autoescape=True),
                    sa.func.lower(apis.c.description).contains(needle, autoescape=True),
                )
            )
        async with self.db.read() as conn:
            return await fetch_page(
                conn, stmt, apis.c.id, cursor=cursor, limit=limit, convert=api_from_row
            )
