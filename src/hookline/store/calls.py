"""Calls from the consumer's and the upstream's side: acceptance with reservation,
reading, cancelling, and the upstream's callbacks. (The runner's side is in
``call_runs.py``; how a call ends is in ``settlement.py``.)"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.domain import calls as rules
from hookline.domain.gateway import ApiStatus, Call, CallStatus, Outcome
from hookline.domain.models import Delivery, Page
from hookline.store import call_events
from hookline.store.apis import api_from_row
from hookline.store.call_rows import QUEUED, call_from_row, call_values, load_call, to_json
from hookline.store.database import Database
from hookline.store.deliveries import delivery_from_row
from hookline.store.gateway_endpoints import create_endpoint, find_endpoint
from hookline.store.pagination import fetch_page
from hookline.store.settlement import Settler
from hookline.store.tables import apis, calls, deliveries, messages
from hookline.store.wallets import ensure_wallet, reserve


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
    def __init__(self, db: Database, settler: Settler) -> None:
        self.db = db
        self.settler = settler
        self.new_id: Callable[[str], str] = settler.new_id
        self.new_secret: Callable[[], str] = settler.new_secret

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
            # A missing wallet has nothing to reserve from, so this refuses it too.
            if not await reserve(conn, call.consumer_id, price, now):
                return Accepted(None, False, "insufficient_balance")
            endpoint_id = None
            if call.webhook_url is not None:
                endpoint_id = await find_endpoint(conn, call.consumer_id, call.webhook_url)
                if endpoint_id is None:
                    wallet = await ensure_wallet(conn, call.consumer_id, self.new_secret(), now)
                    endpoint_id = await create_endpoint(
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
            await conn.execute(calls.insert().values(**call_values(accepted)))
            await call_events.append(
                conn, accepted.id, call_events.STATUS, QUEUED, {"error": None}, now
            )
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
            call = await load_call(conn, call_id, consumer_id)
            if call is None:
                return None
            done = await self.settler.finish(
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
                done = await self.settler.finish(
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
            done = await self.settler.finish(conn, call, outcome, now)
            return CallbackAnswer(done or call, done is not None)

    async def record_progress(
        self, call_id: str, token_hash: str, progress: Any, now: datetime, *, interval: float
    ) -> CallbackAnswer:
        """Keep the latest progress, log it, and send a ``call.progress`` webhook if the
        consumer asked for them and none was sent in the last ``interval`` seconds."""
        async with self.db.write() as conn:
            row = await self._callback_row(conn, call_id, token_hash)
            if row is None:
                return CallbackAnswer(None, False)
            call = call_from_row(row)
            if call.status is not CallStatus.RUNNING:
                return CallbackAnswer(call, False)
            send = (
                "progress" in call.webhook_events
                and call.endpoint_id is not None
                and rules.progress_webhook_due(row.progress_sent_at, now, interval)
            )
            changes: dict[str, Any] = {"progress": to_json(progress), "updated_at": now}
            if send:
                changes["progress_sent_at"] = now
            await conn.execute(calls.update().where(calls.c.id == call_id).values(**changes))
            await call_events.append(
                conn, call_id, call_events.PROGRESS, call.status.value, progress, now
            )
            call = dataclasses.replace(call, progress=progress, updated_at=now)
            if send:
                await self.settler.publish(
                    conn, call, rules.PROGRESS_EVENT, rules.progress_data(call, progress, now), now
                )
            return CallbackAnswer(call, True)

    async def queue_position(self, call: Call) -> int:
        """How many queued calls of the same API are ahead of this one (0: it is next)."""
        async with self.db.read() as conn:
            ahead = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(calls)
                    .where(
                        calls.c.api_id == call.api_id,
                        calls.c.status == QUEUED,
                        calls.c.id < call.id,
                    )
                )
            ).scalar_one()
        return int(ahead)

    @staticmethod
    async def _callback_row(conn: AsyncConnection, call_id: str, token_hash: str) -> Any:
        row = (await conn.execute(sa.select(calls).where(calls.c.id == call_id))).first()
        stored = row.callback_token_hash if row is not None else None
        if stored is None or not hmac.compare_digest(stored, token_hash):
            return None
        return row
