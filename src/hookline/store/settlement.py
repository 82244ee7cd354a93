"""The one way a call ends.

Finishing a call is one transaction: its final state, the settlement (release or
capture, with ledger entries) and, when the consumer gave a webhook URL, the
``call.completed`` message and its delivery, which the delivery worker then sends like
any event. So a result is never recorded without being settled and announced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.domain import calls as rules
from hookline.domain.gateway import Call, LedgerEntry, Outcome
from hookline.domain.models import DeliveryStatus, Trigger
from hookline.store import call_events
from hookline.store.call_rows import attempts_to_json, to_json
from hookline.store.tables import calls, deliveries, endpoints, ledger_entries, messages
from hookline.store.wallets import add_to_balance, entry_values, release


class Settler:
    """Ends calls inside a caller's transaction; ids and new wallets' secrets come from
    the factories it is given."""

    def __init__(self, new_id: Callable[[str], str], new_secret: Callable[[], str]) -> None:
        self.new_id = new_id
        self.new_secret = new_secret

    async def finish(
        self,
        conn: AsyncConnection,
        call: Call,
        outcome: Outcome,
        now: datetime,
        *,
        owner: str | None = None,
        guard: sa.ColumnElement[bool] | None = None,
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
        if guard is not None:
            stmt = stmt.where(guard)
        attempts = call.upstream_attempts + outcome.attempts
        changed = await conn.execute(
            stmt.values(
                upstream_attempts=attempts_to_json(attempts),
                status=outcome.status.value,
                cost=cost,
                result_status_code=outcome.result_status_code,
                result_body=to_json(outcome.result_body),
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
            upstream_attempts=attempts,
        )
        error = {"code": outcome.error, "message": outcome.error_detail} if outcome.error else None
        await call_events.append(
            conn, call.id, call_events.STATUS, done.status.value, {"error": error}, now
        )
        if done.endpoint_id is not None and "completed" in done.webhook_events:
            await self.publish(conn, done, rules.COMPLETED_EVENT, rules.completed_data(done), now)
        return done

    async def publish(
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
                event_type=event_type,
                test=False,
            )
        )
