"""Calls: acceptance with reservation, claiming under a lease, and finishing.

Finishing a call is one transaction: its final state, the settlement (release or
capture, with ledger entries) and, when the consumer gave a webhook URL, the
``call.completed`` message and its delivery, which the delivery worker then sends like
any event. So a result is never recorded without being settled and announced.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.domain import calls as rules
from hookline.domain.gateway import (
    ApiStatus,
    Call,
    CallStatus,
    Dispatched,
    LedgerEntry,
    Outcome,
)
from hookline.domain.models import Delivery, DeliveryStatus, Page, Trigger
from hookline.store.apis import api_from_row
from hookline.store.database import Database
from hookline.store.deliveries import delivery_from_row
from hookline.store.gateway_endpoints import ensure_endpoint
from hookline.store.pagination import fetch_page
from hookline.store.tables import apis, calls, deliveries, endpoints, ledger_entries, messages
from hookline.store.wallets import add_to_balance, ensure_wallet, entry_values, release, reserve

QUEUED = CallStatus.QUEUED.value
RUNNING = CallStatus.RUNNING.value


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _unjson(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def call_from_row(row: Any) -> Call:
    return Call(
        id=row.id,
        consumer_id=row.consumer_id,
        api_id=row.api_id,
        owner_id=row.owner_id,
        method=row.method,
        path=row.path,
        params=_unjson(row.params),
        body=_unjson(row.body),
        webhook_url=row.webhook_url,
        endpoint_id=row.endpoint_id,
        progress_updates=bool(row.progress_updates),
        idempotency_key=row.idempotency_key,
        test=bool(row.test),
        price=int(row.price),
        cost=int(row.cost),
        timeout=float(row.timeout),
        status=CallStatus(row.status),
        attempts=int(row.attempts),
        deadline=row.deadline,
        callback_base=row.callback_base,
        progress=_unjson(row.progress),
        result_status_code=row.result_status_code,
        result_body=_unjson(row.result_body),
        error=row.error,
        error_detail=row.error_detail,
        created_at=row.created_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
        updated_at=row.updated_at,
    )


@dataclass(frozen=True, slots=True)
class Accepted:
    call: Call | None
    created: bool
    refusal: str | None = None  # api_not_found, api_paused, insufficient_balance, …


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    call: Call | None  # None: no such call, or the token does not match
    accepted: bool  # False: the call had already ended


class CallRepository:
    def __init__(
        self, db: Database, new_id: Callable[[str], str], new_secret: Callable[[], str]
    ) -> None:
        self.db = db
        self.new_id = new_id
        self.new_secret = new_secret

    # -- the API's side ----------------------------------------------------------------

    async def accept(self, call: Call, *, requested_timeout: float | None) -> Accepted:
        """Record a queued call, reserving its price, in one transaction.

        The API's price and timeout are read inside the transaction, so a concurrent
        change to the API cannot slip between the check and the reservation.
        """
        now = call.created_at
        async with self.db.write() as conn:
            if call.idempotency_key is not None:
                row = (
                    await conn.execute(
                        sa.select(calls).where(
                            calls.c.consumer_id == call.consumer_id,
                            calls.c.idempotency_key == call.idempotency_key,
                        )
                    )
                ).first()
                if row is not None:
                    return Accepted(call_from_row(row), created=False)
            api_row = (await conn.execute(sa.select(apis).where(apis.c.id == call.api_id))).first()
            api = api_from_row(api_row) if api_row else None
            if (
                api is None
                or api.status is ApiStatus.DELETED
                or (not api.public and api.owner_id != call.consumer_id)
            ):
                return Accepted(None, False, "api_not_found")
            if api.status is ApiStatus.PAUSED:
                return Accepted(None, False, "api_paused")
            if call.test:
                used = (
                    await conn.execute(
                        sa.select(sa.func.count())
                        .select_from(calls)
                        .where(
                            calls.c.consumer_id == call.consumer_id,
                            calls.c.api_id == api.id,
                            calls.c.test.is_(True),
                        )
                    )
                ).scalar_one()
                if used >= api.test_calls:
                    return Accepted(None, False, "test_calls_exhausted")
            price, timeout = rules.call_terms(
                api_price=api.price,
                api_timeout=api.timeout,
                test=call.test,
                timeout=requested_timeout,
            )
            wallet = await ensure_wallet(conn, call.consumer_id, self.new_secret(), now)
            if not await reserve(conn, call.consumer_id, price, now):
                return Accepted(None, False, "insufficient_balance")
            endpoint_id = None
            if call.webhook_url is not None:
                endpoint_id = await ensure_endpoint(
                    conn,
                    call.consumer_id,
                    call.webhook_url,
                    wallet.signing_secret,
                    self.new_id,
                    now,
                )
            accepted = dataclasses.replace(
                call, owner_id=api.owner_id, price=price, timeout=timeout, endpoint_id=endpoint_id
            )
            await conn.execute(calls.insert().values(**_call_values(accepted)))
        return Accepted(accepted, created=True)

    async def get(self, consumer_id: str, call_id: str) -> Call | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(calls).where(
                        calls.c.id == call_id, calls.c.consumer_id == consumer_id
                    )
                )
            ).first()
        return call_from_row(row) if row else None

    async def list_page(
        self,
        consumer_id: str,
        *,
        status: CallStatus | None,
        api_id: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page[Call]:
        stmt = sa.select(calls).where(calls.c.consumer_id == consumer_id)
        if status is not None:
            stmt = stmt.where(calls.c.status == status.value)
        if api_id is not None:
            stmt = stmt.where(calls.c.api_id == api_id)
        async with self.db.read() as conn:
            return await fetch_page(
                conn, stmt, calls.c.id, cursor=cursor, limit=limit, convert=call_from_row
            )

    async def deliveries_of(self, consumer_id: str, call_id: str) -> list[tuple[str, Delivery]]:
        """``(event type, delivery)`` of every webhook sent for this call."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(messages.c.event_type, deliveries)
                .join(messages, messages.c.id == deliveries.c.message_id)
                .where(messages.c.account_id == consumer_id, messages.c.idempotency_key == call_id)
                .order_by(deliveries.c.id)
            )
            return [(r.event_type, delivery_from_row(r)) for r in rows]

    async def cancel(
        self, consumer_id: str, call_id: str, now: datetime
    ) -> tuple[Call, bool] | None:
        """Cancel an open call. Returns the call and whether this cancelled it."""
        async with self.db.write() as conn:
            call = await self._load(conn, call_id, consumer_id)
            if call is None:
                return None
            done = await self._finish(
                conn,
                call,
                Outcome(
                    CallStatus.CANCELLED,
                    error="cancelled",
                    error_detail="cancelled by the consumer",
                ),
                now,
            )
            return (done, True) if done is not None else (call, False)

    async def cancel_queued_for_api(self, api_id: str, now: datetime) -> list[Call]:
        """End the queued calls of an API being deleted."""
        ended: list[Call] = []
        async with self.db.write() as conn:
            rows = await conn.execute(
                sa.select(calls).where(calls.c.api_id == api_id, calls.c.status == QUEUED)
            )
            for row in rows.all():
                done = await self._finish(
                    conn,
                    call_from_row(row),
                    Outcome(
                        CallStatus.CANCELLED,
                        error="api_deleted",
                        error_detail="the API was deleted",
                    ),
                    now,
                )
                if done is not None:
                    ended.append(done)
        return ended

    # -- the upstream's side (callbacks) -----------------------------------------------

    async def complete_by_callback(
        self, call_id: str, token_hash: str, outcome: Outcome, now: datetime
    ) -> CallbackAnswer:
        async with self.db.write() as conn:
            row = await self._callback_row(conn, call_id, token_hash)
            if row is None:
                return CallbackAnswer(None, False)
            call = call_from_row(row)
            done = await self._finish(conn, call, outcome, now)
            return CallbackAnswer(done or call, done is not None)

    async def record_progress(
        self, call_id: str, token_hash: str, progress: Any, now: datetime
    ) -> CallbackAnswer:
        async with self.db.write() as conn:
            row = await self._callback_row(conn, call_id, token_hash)
            if row is None:
                return CallbackAnswer(None, False)
            call = call_from_row(row)
            if call.status is not CallStatus.RUNNING:
                return CallbackAnswer(call, False)
            await conn.execute(
                calls.update()
                .where(calls.c.id == call_id)
                .values(progress=_json(progress), updated_at=now)
            )
            call = dataclasses.replace(call, progress=progress, updated_at=now)
            if call.progress_updates and call.endpoint_id is not None:
                await self._publish(
                    conn, call, rules.PROGRESS_EVENT, rules.progress_data(call, progress, now), now
                )
            return CallbackAnswer(call, True)

    @staticmethod
    async def _callback_row(conn: AsyncConnection, call_id: str, token_hash: str) -> Any:
        row = (await conn.execute(sa.select(calls).where(calls.c.id == call_id))).first()
        stored = row.callback_token_hash if row is not None else None
        if stored is None or not hmac.compare_digest(stored, token_hash):
            return None
        return row

    # -- the runner's side -------------------------------------------------------------

    async def claim(
        self, owner: str, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[Dispatched]:
        """Start up to ``limit`` queued calls, oldest first, without taking any API past
        its ``max_concurrency``. PostgreSQL skips calls other runners are claiming and
        locks the limited APIs' rows so two runners cannot both fill the last slot."""
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

    async def await_callback(self, call_id: str, owner: str, now: datetime) -> None:
        """The upstream took the call: give up the lease; from now on only the callback
        or the deadline ends it."""
        async with self.db.write() as conn:
            await conn.execute(
                calls.update()
                .where(
                    calls.c.id == call_id, calls.c.lease_owner == owner, calls.c.status == RUNNING
                )
                .values(lease_owner=None, lease_expires_at=None, updated_at=now)
            )

    async def finish(
        self, call_id: str, outcome: Outcome, now: datetime, *, owner: str | None = None
    ) -> Call | None:
        """End a call as ``outcome`` says; None when it had already ended (or, with
        ``owner``, when that runner no longer holds it)."""
        async with self.db.write() as conn:
            call = await self._load(conn, call_id)
            if call is None:
                return None
            return await self._finish(conn, call, outcome, now, owner=owner)

    async def reap(self, now: datetime) -> list[Call]:
        """Deal with calls nobody is watching any more: a hold call whose runner's lease
        ran out (it died) runs again if its API is idempotent, else fails as
        ``interrupted``; a call past its deadline with no runner becomes ``timed_out``.
        Returns the calls that ended."""
        ended: list[Call] = []
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
            for row in rows:
                call = call_from_row(row)
                outcome = rules.after_interruption(
                    idempotent=bool(row.idempotent), attempts=call.attempts
                )
                if outcome is None:
                    await conn.execute(
                        calls.update()
                        .where(calls.c.id == call.id, calls.c.status == RUNNING)
                        .values(
                            status=QUEUED,
                            lease_owner=None,
                            lease_expires_at=None,
                            deadline=None,
                            callback_token_hash=None,
                            updated_at=now,
                        )
                    )
                    continue
                done = await self._finish(conn, call, outcome, now)
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
                done = await self._finish(conn, call_from_row(row), _timed_out(), now)
                if done is not None:
                    ended.append(done)
        return ended

    async def next_deadline(self) -> datetime | None:
        """The earliest deadline of a call waiting for its callback."""
        async with self.db.read() as conn:
            value = (
                await conn.execute(
                    sa.select(sa.func.min(calls.c.deadline)).where(
                        calls.c.status == RUNNING, calls.c.lease_owner.is_(None)
                    )
                )
            ).scalar_one_or_none()
        return value if isinstance(value, datetime) else None

    # -- the one way a call ends -------------------------------------------------------

    @staticmethod
    async def _load(
        conn: AsyncConnection, call_id: str, consumer_id: str | None = None
    ) -> Call | None:
        stmt = sa.select(calls).where(calls.c.id == call_id)
        if consumer_id is not None:
            stmt = stmt.where(calls.c.consumer_id == consumer_id)
        row = (await conn.execute(stmt)).first()
        return call_from_row(row) if row else None

    async def _finish(
        self,
        conn: AsyncConnection,
        call: Call,
        outcome: Outcome,
        now: datetime,
        *,
        owner: str | None = None,
    ) -> Call | None:
        if not rules.can_finish(call.status, outcome.status):
            return None
        cost, postings = rules.settlement(
            status=outcome.status,
            price=call.price,
            consumer_id=call.consumer_id,
            owner_id=call.owner_id,
        )
        stmt = calls.update().where(calls.c.id == call.id, calls.c.status == call.status.value)
        if owner is not None:
            stmt = stmt.where(calls.c.lease_owner == owner)
        changed = await conn.execute(
            stmt.values(
                status=outcome.status.value,
                cost=cost,
                result_status_code=outcome.result_status_code,
                result_body=_json(outcome.result_body),
                error=outcome.error,
                error_detail=outcome.error_detail,
                lease_owner=None,
                lease_expires_at=None,
                completed_at=now,
                updated_at=now,
            )
        )
        if changed.rowcount != 1:
            return None
        await release(conn, call.consumer_id, call.price, captured=bool(postings), now=now)
        if postings:
            for p in postings:
                if p.amount > 0:
                    await add_to_balance(conn, p.account_id, p.amount, self.new_secret(), now)
            await conn.execute(
                ledger_entries.insert(),
                [
                    entry_values(
                        LedgerEntry(
                            id=self.new_id("led"),
                            account_id=p.account_id,
                            settlement_id=call.id,
                            call_id=call.id,
                            api_id=call.api_id,
                            kind=p.kind,
                            amount=p.amount,
                            note=None,
                            created_at=now,
                        )
                    )
                    for p in postings
                ],
            )
        done = dataclasses.replace(
            call,
            status=outcome.status,
            cost=cost,
            result_status_code=outcome.result_status_code,
            result_body=outcome.result_body,
            error=outcome.error,
            error_detail=outcome.error_detail,
            completed_at=now,
            updated_at=now,
        )
        if done.endpoint_id is not None:
            await self._publish(conn, done, rules.COMPLETED_EVENT, rules.completed_data(done), now)
        return done

    async def _publish(
        self,
        conn: AsyncConnection,
        call: Call,
        event_type: str,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        """A message for the consumer's gateway endpoint and its pending delivery. The
        message's idempotency key is the call id, which ties the two together."""
        assert call.endpoint_id is not None
        app_id = (
            await conn.execute(
                sa.select(endpoints.c.app_id).where(endpoints.c.id == call.endpoint_id)
            )
        ).scalar_one()
        message_id = self.new_id("msg")
        await conn.execute(
            messages.insert().values(
                id=message_id,
                account_id=call.consumer_id,
                app_id=app_id,
                event_type=event_type,
                payload=orjson.dumps(data).decode(),
                idempotency_key=call.id,
                created_at=now,
            )
        )
        await conn.execute(
            deliveries.insert().values(
                id=self.new_id("dlv"),
                message_id=message_id,
                endpoint_id=call.endpoint_id,
                account_id=call.consumer_id,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                trigger=Trigger.SCHEDULED.value,
                created_at=now,
                updated_at=now,
            )
        )


def _timed_out() -> Outcome:
    return Outcome(
        CallStatus.TIMED_OUT, error="timeout", error_detail="no result before the call's timeout"
    )


def _call_values(c: Call) -> dict[str, Any]:
    return {
        "id": c.id,
        "consumer_id": c.consumer_id,
        "api_id": c.api_id,
        "owner_id": c.owner_id,
        "method": c.method,
        "path": c.path,
        "params": _json(c.params),
        "body": _json(c.body),
        "webhook_url": c.webhook_url,
        "endpoint_id": c.endpoint_id,
        "progress_updates": c.progress_updates,
        "idempotency_key": c.idempotency_key,
        "test": c.test,
        "price": c.price,
        "cost": c.cost,
        "timeout": c.timeout,
        "status": c.status.value,
        "attempts": c.attempts,
        "lease_owner": None,
        "lease_expires_at": None,
        "deadline": c.deadline,
        "callback_base": c.callback_base,
        "callback_token_hash": None,
        "progress": _json(c.progress),
        "result_status_code": c.result_status_code,
        "result_body": _json(c.result_body),
        "error": c.error,
        "error_detail": c.error_detail,
        "created_at": c.created_at,
        "started_at": c.started_at,
        "completed_at": c.completed_at,
        "updated_at": c.updated_at,
    }
