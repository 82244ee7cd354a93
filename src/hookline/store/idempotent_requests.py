"""The first answer to each ``Idempotency-Key`` of a POST, kept so a retry gets it again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import exc

from hookline.store.database import Database
from hookline.store.tables import idempotent_requests as t


@dataclass(frozen=True, slots=True)
class StoredRequest:
    """A key already seen: its fingerprint, and its answer once the first one finished."""

    fingerprint: str
    status_code: int | None
    content_type: str | None
    body: bytes | None
    locked_until: datetime


class IdempotentRequestRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(
        self,
        scope: str,
        key: str,
        fingerprint: str,
        *,
        now: datetime,
        locked_until: datetime,
        expires_at: datetime,
    ) -> StoredRequest | None:
        """Take the key for a request about to run (None), or return what holds it.

        An expired key, or one whose first request stopped without an answer (its lock
        ran out), is taken over.
        """
        try:
            return await self._claim(scope, key, fingerprint, now, locked_until, expires_at)
        except exc.IntegrityError:
            # Another process inserted the key between our read and our insert: it holds it.
            return await self._claim(scope, key, fingerprint, now, locked_until, expires_at)

    async def _claim(
        self,
        scope: str,
        key: str,
        fingerprint: str,
        now: datetime,
        locked_until: datetime,
        expires_at: datetime,
    ) -> StoredRequest | None:
        where = (t.c.scope == scope, t.c.key == key)
        async with self.db.write() as conn:
            query = sa.select(t).where(*where)
            if not self.db.is_sqlite:
                query = query.with_for_update()
            row = (await conn.execute(query)).first()
            if row is not None:
                abandoned = row.status_code is None and row.locked_until <= now
                if row.expires_at > now and not abandoned:
                    return StoredRequest(
                        row.fingerprint,
                        row.status_code,
                        row.content_type,
                        row.body,
                        row.locked_until,
                    )
                await conn.execute(t.delete().where(*where))
            await conn.execute(
                t.insert().values(
                    scope=scope,
                    key=key,
                    fingerprint=fingerprint,
                    locked_until=locked_until,
                    expires_at=expires_at,
                )
            )
        return None

    async def complete(
        self, scope: str, key: str, status_code: int, content_type: str | None, body: bytes
    ) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                t.update()
                .where(t.c.scope == scope, t.c.key == key, t.c.status_code.is_(None))
                .values(status_code=status_code, content_type=content_type, body=body)
            )

    async def release(self, scope: str, key: str) -> None:
        """Forget a claim whose request did not produce an answer worth keeping."""
        async with self.db.write() as conn:
            await conn.execute(
                t.delete().where(t.c.scope == scope, t.c.key == key, t.c.status_code.is_(None))
            )

    async def purge_expired(self, now: datetime) -> int:
        async with self.db.write() as conn:
            result = await conn.execute(t.delete().where(t.c.expires_at <= now))
        return int(result.rowcount or 0)
