"""Messages (events) and the transactional fan-out that creates their deliveries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hookline.domain.models import (
    DeliveryStatus,
    Endpoint,
    EndpointStatus,
    Message,
    Page,
    Published,
    Trigger,
)
from hookline.store.database import Database
from hookline.store.endpoints import endpoint_from_row
from hookline.store.pagination import fetch_page
from hookline.store.tables import deliveries, endpoints, idempotency_keys, messages


def message_from_row(row: Any) -> Message:
    return Message(
        id=row.id,
        account_id=row.account_id,
        app_id=row.app_id,
        event_type=row.event_type,
        payload=row.payload.encode(),
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
    )


def _message_values(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "account_id": m.account_id,
        "app_id": m.app_id,
        "event_type": m.event_type,
        "payload": m.payload.decode(),
        "idempotency_key": m.idempotency_key,
        "created_at": m.created_at,
    }


def _delivery_values(m: Message, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
    return {
        "id": delivery_id,
        "message_id": m.id,
        "endpoint_id": endpoint_id,
        "account_id": m.account_id,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": m.created_at,
        "trigger": Trigger.SCHEDULED.value,
        "created_at": m.created_at,
        "updated_at": m.created_at,
    }


class MessageRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def publish(
        self,
        batch: Sequence[Message],
        *,
        select_endpoints: Callable[[Message, list[Endpoint]], list[Endpoint]],
        new_delivery_id: Callable[[], str],
        idempotency_expires_at: datetime,
    ) -> list[Published]:
        """Write messages of one account and application, each with one pending delivery
        per endpoint ``select_endpoints`` chooses, in one transaction.

        A message whose idempotency key is still live (earlier, or earlier in this batch)
        writes nothing and answers with the first message instead (``created`` False).
        """
        if not batch:
            return []
        account_id, app_id = batch[0].account_id, batch[0].app_id
        if any(m.account_id != account_id or m.app_id != app_id for m in batch):
            raise ValueError("a publish batch belongs to one account and application")
        results: list[Published] = []
        async with self.db.write() as conn:
            rows = await conn.execute(
                sa.select(endpoints).where(
                    endpoints.c.account_id == account_id,
                    endpoints.c.app_id == app_id,
                    endpoints.c.status == EndpointStatus.ACTIVE.value,
                )
            )
            active = [endpoint_from_row(r) for r in rows]
            new_messages: list[dict[str, Any]] = []
            new_deliveries: list[dict[str, Any]] = []
            new_keys: list[dict[str, Any]] = []
            in_batch: dict[str, Published] = {}
            for message in batch:
                key = message.idempotency_key
                if key is not None:
                    earlier = in_batch.get(key) or await self._live_idempotent(
                        conn, account_id, key, message.created_at
                    )
                    if earlier is not None:
                        results.append(Published(earlier.message, earlier.deliveries, False))
                        continue
                chosen = select_endpoints(message, active)
                new_messages.append(_message_values(message))
                new_deliveries += [
                    _delivery_values(message, ep.id, new_delivery_id()) for ep in chosen
                ]
                published = Published(message=message, deliveries=len(chosen), created=True)
                if key is not None:
                    in_batch[key] = published
                    new_keys.append(
                        {
                            "account_id": account_id,
                            "key": key,
                            "message_id": message.id,
                            "expires_at": idempotency_expires_at,
                        }
                    )
                results.append(published)
            if new_messages:
                await conn.execute(messages.insert(), new_messages)
            if new_deliveries:
                await conn.execute(deliveries.insert(), new_deliveries)
            if new_keys:
                await conn.execute(idempotency_keys.insert(), new_keys)
        return results

    async def _live_idempotent(
        self, conn: Any, account_id: str, key: str, now: datetime
    ) -> Published | None:
        row = (
            await conn.execute(
                sa.select(idempotency_keys).where(
                    idempotency_keys.c.account_id == account_id, idempotency_keys.c.key == key
                )
            )
        ).first()
        if row is None:
            return None
        if row.expires_at <= now:
            await conn.execute(
                idempotency_keys.delete().where(
                    idempotency_keys.c.account_id == account_id, idempotency_keys.c.key == key
                )
            )
            return None
        first = (
            await conn.execute(sa.select(messages).where(messages.c.id == row.message_id))
        ).one()
        count = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(deliveries)
                .where(deliveries.c.message_id == row.message_id)
            )
        ).scalar_one()
        return Published(message=message_from_row(first), deliveries=int(count), created=False)

    async def get(self, account_id: str, message_id: str) -> Message | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(messages).where(
                        messages.c.id == message_id, messages.c.account_id == account_id
                    )
                )
            ).first()
        return message_from_row(row) if row else None

    async def list_page(
        self, account_id: str, *, event_type: str | None, cursor: str | None, limit: int
    ) -> Page[Message]:
        stmt = sa.select(messages).where(messages.c.account_id == account_id)
        if event_type:
            stmt = stmt.where(messages.c.event_type == event_type)
        async with self.db.read() as conn:
            return await fetch_page(
                conn, stmt, messages.c.id, cursor=cursor, limit=limit, convert=message_from_row
            )
