"""The purge: finished deliveries with their attempts, request bodies no attempt refers
to any more, and events left without deliveries, removed in small transactions.

Every step is one short write transaction of at most ``limit`` rows of the table it
walks, so publishers and workers wait at most one small batch (on SQLite, the writer
lock; on PostgreSQL, no lock a publisher needs: new rows never conflict with old ones).
Pending and sending deliveries, and their events, are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hookline.domain.ids import new_id
from hookline.domain.retention import FINISHED, PurgeCounts
from hookline.store.database import Database, unavailable_as_store_error
from hookline.store.tables import attempts, deliveries, idempotency_keys, messages, request_bodies

# The PostgreSQL advisory lock that makes one process the purger (any fixed number;
# the migration lock uses another).
PG_PURGE_LOCK_ID = 0x486F6F6B_70757267 & 0x7FFF_FFFF_FFFF_FFFF

_FINISHED = [s.value for s in FINISHED]


def _finished_before(cutoff: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(deliveries.c.status.in_(_FINISHED), deliveries.c.updated_at < cutoff)


def _first_id_at(cutoff: datetime) -> str:
    """The smallest event id made at ``cutoff``: every older event's id sorts below."""
    return new_id("msg", int(cutoff.timestamp() * 1000), bytes(10))


class RetentionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._running = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[bool]:
        """Yield True when the caller is the only purger: in this process, and on
        PostgreSQL across processes (a session advisory lock, held on a connection of its
        own for the whole run and released with it, even if the process dies)."""
        if self._running.locked():
            yield False
            return
        async with self._running:
            if self.db.is_sqlite:
                yield True
                return
            with unavailable_as_store_error():
                conn = await self.db.engine.connect()
            try:
                with unavailable_as_store_error():
                    got = bool(
                        (
                            await conn.execute(
                                sa.select(sa.func.pg_try_advisory_lock(PG_PURGE_LOCK_ID))
                            )
                        ).scalar_one()
                    )
                    await conn.commit()
                try:
                    yield got
                finally:
                    if got:
                        with contextlib.suppress(Exception):
                            await conn.execute(
                                sa.select(sa.func.pg_advisory_unlock(PG_PURGE_LOCK_ID))
                            )
                            await conn.commit()
            finally:
                with contextlib.suppress(Exception):
                    await conn.close()

    async def purge_deliveries(self, cutoff: datetime, limit: int) -> PurgeCounts:
        """Remove up to ``limit`` deliveries that finished before ``cutoff``, their
        attempts, and the request bodies no remaining attempt refers to."""
        # No ORDER BY: any old finished rows will do, and ordering across the four
        # statuses would sort every match instead of stopping at ``limit``.
        pick = sa.select(deliveries.c.id).where(_finished_before(cutoff)).limit(limit)
        if not self.db.is_sqlite:
            # Locked until commit, so a retry or recover cannot make one pending in
            # between; rows another transaction holds are left for the next round.
            pick = pick.with_for_update(skip_locked=True)
        async with self.db.write() as conn:
            ids = list((await conn.execute(pick)).scalars())
            if not ids:
                return PurgeCounts()
            shas = [
                s
                for s in (
                    await conn.execute(
                        sa.select(attempts.c.request_body_sha256)
                        .where(attempts.c.delivery_id.in_(ids))
                        .distinct()
                    )
                ).scalars()
                if s is not None
            ]
            gone_attempts = await conn.execute(
                attempts.delete().where(attempts.c.delivery_id.in_(ids))
            )
            gone = await conn.execute(deliveries.delete().where(deliveries.c.id.in_(ids)))
            bodies = 0
            if shas:
                unused = ~sa.exists().where(
                    attempts.c.request_body_sha256 == request_bodies.c.sha256
                )
                bodies = _count(
                    await conn.execute(
                        request_bodies.delete().where(request_bodies.c.sha256.in_(shas), unused)
                    )
                )
        return PurgeCounts(
            deliveries=_count(gone), attempts=_count(gone_attempts), request_bodies=bodies
        )

    async def purge_messages(
        self, cutoff: datetime, after: str | None, limit: int
    ) -> tuple[PurgeCounts, str | None]:
        """Look at up to ``limit`` events made before ``cutoff`` (from id ``after`` on)
        and remove those with no delivery left, with their idempotency keys.

        Returns what went and the id to continue from (None: no older events remain)."""
        older = sa.and_(messages.c.id < _first_id_at(cutoff), messages.c.created_at < cutoff)
        if after is not None:
            older = sa.and_(older, messages.c.id > after)
        async with self.db.write() as conn:
            rows = (
                await conn.execute(
                    sa.select(messages.c.id, messages.c.account_id, messages.c.idempotency_key)
                    .where(older)
                    .order_by(messages.c.id)
                    .limit(limit)
                )
            ).all()
            if not rows:
                return PurgeCounts(), None
            looked = [r.id for r in rows]
            kept = set(
                (
                    await conn.execute(
                        sa.select(deliveries.c.message_id)
                        .where(deliveries.c.message_id.in_(looked))
                        .distinct()
                    )
                ).scalars()
            )
            doomed = [r for r in rows if r.id not in kept]
            counts = PurgeCounts()
            if doomed:
                keys = [(r.account_id, r.idempotency_key) for r in doomed if r.idempotency_key]
                if keys:
                    counts.idempotency_keys = _count(
                        await conn.execute(
                            idempotency_keys.delete().where(
                                sa.tuple_(
                                    idempotency_keys.c.account_id, idempotency_keys.c.key
                                ).in_(keys),
                                idempotency_keys.c.message_id.in_([r.id for r in doomed]),
                            )
                        )
                    )
                counts.messages = _count(
                    await conn.execute(
                        messages.delete().where(
                            messages.c.id.in_([r.id for r in doomed]),
                            # A delivery added since the read above keeps its event.
                            ~sa.exists().where(deliveries.c.message_id == messages.c.id),
                        )
                    )
                )
        return counts, looked[-1] if len(looked) >= limit else None

    async def count(self, cutoff: datetime) -> PurgeCounts:
        """What a purge at ``cutoff`` would remove now (read only)."""
        doomed_delivery = _finished_before(cutoff)
        kept_delivery = sa.not_(doomed_delivery)
        old_message = sa.and_(
            messages.c.id < _first_id_at(cutoff),
            messages.c.created_at < cutoff,
            ~sa.exists().where(deliveries.c.message_id == messages.c.id, kept_delivery),
        )
        doomed_attempt = sa.exists().where(
            deliveries.c.id == attempts.c.delivery_id, doomed_delivery
        )
        a2 = attempts.alias("kept_attempts")
        d2 = deliveries.alias("kept_deliveries")
        body_kept = sa.exists().where(
            a2.c.request_body_sha256 == request_bodies.c.sha256,
            d2.c.id == a2.c.delivery_id,
            sa.not_(sa.and_(d2.c.status.in_(_FINISHED), d2.c.updated_at < cutoff)),
        )
        body_doomed = sa.exists().where(
            attempts.c.request_body_sha256 == request_bodies.c.sha256, doomed_attempt
        )
        async with self.db.read() as conn:

            async def n(stmt: Any) -> int:
                return int((await conn.execute(stmt)).scalar_one())

            return PurgeCounts(
                deliveries=await n(
                    sa.select(sa.func.count()).select_from(deliveries).where(doomed_delivery)
                ),
                attempts=await n(
                    sa.select(sa.func.count()).select_from(attempts).where(doomed_attempt)
                ),
                request_bodies=await n(
                    sa.select(sa.func.count())
                    .select_from(request_bodies)
                    .where(body_doomed, ~body_kept)
                ),
                messages=await n(
                    sa.select(sa.func.count()).select_from(messages).where(old_message)
                ),
                idempotency_keys=await n(
                    sa.select(sa.func.count())
                    .select_from(idempotency_keys)
                    .join(messages, messages.c.id == idempotency_keys.c.message_id)
                    .where(old_message)
                ),
            )


def _count(result: Any) -> int:
    return int(result.rowcount or 0)
