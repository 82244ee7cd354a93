"""A call's event log: its status changes and progress updates, numbered 1, 2, 3 … per
call, each appended in the transaction that makes the change. The event stream of a
call replays it, so a client that reconnects with ``Last-Event-ID`` misses nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.store.call_rows import from_json, to_json
from hookline.store.database import Database
from hookline.store.tables import call_events

call_events_table = call_events

STATUS = "status"
PROGRESS = "progress"


@dataclass(frozen=True, slots=True)
class CallEvent:
    call_id: str
    seq: int
    kind: str  # status | progress
    status: str  # the call's status once this happened
    data: Any  # progress: the update; status: {"error": …} when it ended with one
    created_at: datetime


async def append(
    conn: AsyncConnection,
    call_id: str,
    kind: str,
    status: str,
    data: Any,
    now: datetime,
) -> int:
    """Add the next event of a call. Callers have already updated the call's row in this
    transaction, so the row lock orders concurrent writers of one call (PostgreSQL) and
    numbers have no gaps; the primary key refuses a duplicate number outright."""
    seq = (
        await conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(call_events.c.seq), 0) + 1).where(
                call_events.c.call_id == call_id
            )
        )
    ).scalar_one()
    await conn.execute(
        call_events.insert().values(
            call_id=call_id,
            seq=int(seq),
            kind=kind,
            status=status,
            data=to_json(data),
            created_at=now,
        )
    )
    return int(seq)


class CallEventRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def since(self, call_id: str, after: int, limit: int = 500) -> list[CallEvent]:
        """Events of a call numbered above ``after``, in order."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(call_events)
                .where(call_events.c.call_id == call_id, call_events.c.seq > after)
                .order_by(call_events.c.seq)
                .limit(limit)
            )
            return [
                CallEvent(r.call_id, r.seq, r.kind, r.status, from_json(r.data), r.created_at)
                for r in rows
            ]
