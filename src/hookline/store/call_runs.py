"""Calls from the gateway runner's side: claiming under a lease, renewing it, handing
a call over to its callback, finishing, and reaping calls whose runner is gone."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

import sqlalchemy as sa

from hookline.domain import calls as rules
from hookline.domain.gateway import (
    ApiStatus,
    Call,
    CallStatus,
    Dispatched,
    Outcome,
    UpstreamAttempt,
)
from hookline.store import call_events
from hookline.store.apis import api_from_row
from hookline.store.call_rows import QUEUED, RUNNING, attempts_to_json, call_from_row, load_call
from hookline.store.database import Database
from hookline.store.settlement import Settler
from hookline.store.tables import apis, calls


class RunRepository:
    def __init__(self, db: Database, settler: Settler) -> None:
        self.db = db
        self.settler = settler

    async def claim(
        self, owner: str, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[Dispatched]:
        """Start up to ``limit`` queued calls, oldest first, without taking any API past
        its ``max_concurrency``. PostgreSQL skips calls other runners are claiming and
        locks the limited APIs' rows so two runners cannot both fill the last slot."""
        if not await self._exists(calls.c.status == QUEUED):
            return []  # the common idle case: no write lock, not even the query built
        other = calls.alias("running_calls")
        running = (
            sa.select(sa.func.count())
            .where(other.c.api_id == apis.c.id, other.c.status == RUNNING)
            .scalar_subquery()
        )
        due = (
            sa.select(calls.c.id, calls.c.api_id, calls.c.timeout, apis.c.max_concurrency)
            .join(apis, apis.c.id == calls.c.api_id)
            .where(
                calls.c.status == QUEUED,
                apis.c.status == ApiStatus.ACTIVE.value,
                sa.or_(apis.c.max_concurrency.is_(None), running < apis.c.max_concurrency),
            )
            .order_by(calls.c.id)
            .limit(limit * 2)
        )
        if not self.db.is_sqlite:
            due = due.with_for_update(skip_locked=True, of=calls)
        async with self.db.write() as conn:
            candidates = (await conn.execute(due)).all()
            if not candidates:
                return []
            limits = {r.api_id: r.max_concurrency for r in candidates}
            limited = sorted(a for a, n in limits.items() if n is not None)
            counts: dict[str, int] = {}
            if limited:
                if not self.db.is_sqlite:
                    await conn.execute(
                        sa.select(apis.c.id)
                        .where(apis.c.id.in_(limited))
                        .order_by(apis.c.id)
                        .with_for_update()
                    )
                counts = {
                    r.api_id: int(r.n)
                    for r in await conn.execute(
                        sa.select(calls.c.api_id, sa.func.count().label("n"))
                        .where(calls.c.api_id.in_(limited), calls.c.status == RUNNING)
                        .group_by(calls.c.api_id)
                    )
                }
            chosen = rules.admit([(r.id, r.api_id) for r in candidates], counts, limits, limit)
            if not chosen:
                return []
            timeouts = {r.id: float(r.timeout) for r in candidates}
            await conn.execute(
                calls.update()
                .where(calls.c.id == sa.bindparam("b_id"), calls.c.status == QUEUED)
                .values(
                    status=RUNNING,
                    lease_owner=owner,
                    lease_expires_at=lease_until,
                    deadline=sa.bindparam("b_deadline"),
                    started_at=now,
                    attempts=calls.c.attempts + 1,
                    updated_at=now,
                ),
                [{"b_id": c, "b_deadline": now + timedelta(seconds=timeouts[c])} for c in chosen],
            )
            call_rows = await conn.execute(
                sa.select(calls).where(calls.c.id.in_(chosen)).order_by(calls.c.id)
            )
            claimed = [call_from_row(r) for r in call_rows]
            for c in claimed:
                await call_events.append(conn, c.id, call_events.STATUS, RUNNING, None, now)
                if "start" in c.webhook_events and c.endpoint_id is not None:
                    await self.settler.publish(
                        conn, c, rules.STARTED_EVENT, rules.started_data(c, now), now
                    )
            api_rows = await conn.execute(
                sa.select(apis).where(apis.c.id.in_({c.api_id for c in claimed}))
            )
            by_id = {a.id: a for a in (api_from_row(r) for r in api_rows)}
        return [Dispatched(call=c, api=by_id[c.api_id]) for c in claimed]

    async def heartbeat(
        self, owner: str, call_ids: Collection[str], lease_until: datetime
    ) -> set[str]:
        """Extend this runner's leases; return the ids it no longer holds (cancelled,
        timed out, or taken over), whose upstream requests should stop."""
        if not call_ids:
            return set()
        ids = list(call_ids)
        async with self.db.write() as conn:
            await conn.execute(
                calls.update()
                .where(calls.c.id.in_(ids), calls.c.lease_owner == owner, calls.c.status == RUNNING)
                .values(lease_expires_at=lease_until)
            )
            held = (
                await conn.execute(
                    sa.select(calls.c.id).where(
                        calls.c.id.in_(ids), calls.c.lease_owner == owner, calls.c.status == RUNNING
                    )
                )
            ).scalars()
            return set(ids) - set(held)

    async def set_callback_token(self, call_id: str, owner: str, token_hash: str) -> bool:
        async with self.db.write() as conn:
            result = await conn.execute(
                calls.update()
                .where(
                    calls.c.id == call_id, calls.c.lease_owner == owner, calls.c.status == RUNNING
                )
                .values(callback_token_hash=token_hash)
            )
        return bool(result.rowcount == 1)

    async def await_callback(
        self,
        call_id: str,
        owner: str,
        now: datetime,
        attempts: tuple[UpstreamAttempt, ...] = (),
    ) -> None:
        """The upstream took the call: give up the lease; from now on only the callback
        or the deadline ends it. ``attempts`` are the requests it took to get there."""
        async with self.db.write() as conn:
            await conn.execute(
                calls.update()
                .where(
                    calls.c.id == call_id, calls.c.lease_owner == owner, calls.c.status == RUNNING
                )
                .values(
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
            )
            if attempts:
                current = await load_call(conn, call_id)
                if current is not None:
                    await conn.execute(
                        calls.update()
                        .where(calls.c.id == call_id)
                        .values(
                            upstream_attempts=attempts_to_json(current.upstream_attempts + attempts)
                        )
                    )

    async def finish(
        self, call_id: str, outcome: Outcome, now: datetime, *, owner: str | None = None
    ) -> Call | None:
        """End a call as ``outcome`` says; None when it had already ended (or, with
        ``owner``, when that runner no longer holds it)."""
        async with self.db.write() as conn:
            call = await load_call(conn, call_id)
            if call is None:
                return None
            return await self.settler.finish(conn, call, outcome, now, owner=owner)

    async def reap(self, now: datetime) -> list[Call]:
        """Deal with calls nobody is watching any more: a hold call whose runner's lease
        ran out (it died) runs again if its API is idempotent, else fails as
        ``interrupted``; a call past its deadline with no runner becomes ``timed_out``.
        Returns the calls that ended."""
        ended: list[Call] = []
        expired = sa.and_(calls.c.lease_owner.is_not(None), calls.c.lease_expires_at <= now)
        past_deadline = sa.and_(calls.c.lease_owner.is_(None), calls.c.deadline <= now)
        if not await self._exists(calls.c.status == RUNNING, sa.or_(expired, past_deadline)):
            return ended
        async with self.db.write() as conn:
            rows = (
                await conn.execute(
                    sa.select(calls, apis.c.idempotent)
                    .join(apis, apis.c.id == calls.c.api_id)
                    .where(
                        calls.c.status == RUNNING,
                        calls.c.lease_owner.is_not(None),
                        calls.c.lease_expires_at <= now,
                    )
                )
            ).all()
            # Re-checked in each update: on PostgreSQL another runner may have reaped
            # and re-claimed the call since it was read.
            still_expired = (calls.c.status == RUNNING, calls.c.lease_expires_at <= now)
            for row in rows:
                call = call_from_row(row)
                outcome = rules.after_interruption(
                    idempotent=bool(row.idempotent), attempts=call.attempts
                )
                if outcome is None:
                    await conn.execute(
                        calls.update()
                        .where(calls.c.id == call.id, *still_expired)
                        .values(
                            status=QUEUED,
                            lease_owner=None,
                            lease_expires_at=None,
                            deadline=None,
                            callback_token_hash=None,
                            updated_at=now,
                        )
                    )
                    await call_events.append(
                        conn, call.id, call_events.STATUS, QUEUED, {"error": None}, now
                    )
                    continue
                done = await self.settler.finish(conn, call, outcome, now, guard=still_expired[1])
                if done is not None:
                    ended.append(done)
            overdue = (
                await conn.execute(
                    sa.select(calls).where(
                        calls.c.status == RUNNING,
                        calls.c.lease_owner.is_(None),
                        calls.c.deadline <= now,
                    )
                )
            ).all()
            for row in overdue:
                done = await self.settler.finish(
                    conn, call_from_row(row), _timed_out(), now, guard=calls.c.lease_owner.is_(None)
                )
                if done is not None:
                    ended.append(done)
        return ended

    async def expire_deadlines(self, now: datetime, limit: int = 100) -> list[Call]:
        """End open calls whose ``cancel_after`` has passed: queued ones ``aborted``,
        running ones ``cancelled`` (their runner sees the lease gone and stops the
        upstream request). Returns the calls that ended."""
        due = (calls.c.status.in_((QUEUED, RUNNING)), calls.c.cancel_at <= now)
        if not await self._exists(*due):
            return []
        ended: list[Call] = []
        async with self.db.write() as conn:
            rows = (
                await conn.execute(sa.select(calls).where(*due).order_by(calls.c.id).limit(limit))
            ).all()
            for row in rows:
                call = call_from_row(row)
                done = await self.settler.finish(
                    conn, call, rules.deadline_outcome(call.status), now
                )
                if done is not None:
                    ended.append(done)
        return ended

    async def expunge_results(self, cutoff: datetime, now: datetime, limit: int = 100) -> int:
        """Remove the results (and request bodies) of up to ``limit`` calls that ended
        before ``cutoff``; the calls themselves, their cost and ledger stay. Small
        batches keep each write transaction short."""
        old = (
            calls.c.completed_at < cutoff,
            calls.c.completed_at.is_not(None),
            calls.c.result_expunged_at.is_(None),
        )
        if not await self._exists(*old):
            return 0
        async with self.db.write() as conn:
            ids = (
                (
                    await conn.execute(
                        sa.select(calls.c.id)
                        .where(*old)
                        .order_by(calls.c.completed_at)
                        .limit(limit)
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                return 0
            await conn.execute(
                calls.update()
                .where(calls.c.id.in_(ids), calls.c.result_expunged_at.is_(None))
                .values(
                    result_body=None,
                    params=None,
                    body=None,
                    progress=None,
                    result_expunged_at=now,
                )
            )
            await conn.execute(
                call_events.call_events_table.update()
                .where(
                    call_events.call_events_table.c.call_id.in_(ids),
                    call_events.call_events_table.c.kind == call_events.PROGRESS,
                )
                .values(data=None)
            )
        return len(ids)

    async def _exists(self, *where: sa.ColumnElement[bool]) -> bool:
        async with self.db.read() as conn:
            found = (await conn.execute(sa.select(calls.c.id).where(*where).limit(1))).first()
        return found is not None


def _timed_out() -> Outcome:
    return Outcome(
        CallStatus.TIMED_OUT, error="timeout", error_detail="no result before the call's timeout"
    )
