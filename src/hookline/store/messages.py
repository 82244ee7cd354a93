"""Messages (events) and the transactional fan-out that creates their deliveries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hookline.domain.models import (
    DeliveryStatus,
    Endpoint,
    EndpointStatus,
    Message,
    Page,
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


@dataclass(frozen=True, slots=True)
class Published:
    message: Message
    deliveries: int
    created: bool


class MessageRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def publish(
        self,
        message: Message,
        *,
        select_endpoints: Callable[[list[Endpoint]], list[Endpoint]],
        new_delivery_id: Callable[[], str],
        idempotency_expires_at: datetime | None,
    ) -> Published:
        """Write the message and one pending delivery per selected endpoint, atomically.

        With an idempotency key that is still live, nothing is written and the first
        message is returned instead (``created`` is False).
        """
        now = message.created_at
        async with self.db.write() as conn:
            key = message.idempotency_key
            if key is not None:
                earlier = await self._live_idempotent(conn, message.account_id, key, now)
                if earlier is not None:
                    return earlier
            rows = await conn.execute(
                sa.select(endpoints).where(
                    endpoints.c.account_id == message.account_id,
                    endpoints.c.app_id == message.app_id,
                    endpoints.c.status == EndpointStatus.ACTIVE.value,
                )
            )
            chosen = select_endpoints([endpoint_from_row(r) for r in rows])
            await conn.execute(
                messages.insert().values(
                    id=message.id,
                    account_id=message.account_id,
                    app_id=message.app_id,
                    event_type=message.event_type,
                    payload=message.payload.decode(),
                    idempotency_key=key,
                    created_at=now,
                )
            )
            if chosen:
                await conn.execute(
                    deliveries.insert(),
                    [
                        {
                            "id": new_delivery_id(),
                            "message_id": message.id,
                            "endpoint_id": ep.id,
                            "account_id": message.account_id,
                            "status": DeliveryStatus.PENDING.value,
                            "attempts": 0,
                            "next_attempt_at": now,
                            "trigger": Trigger.SCHEDULED.value,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for ep in chosen
                    ],
                )
            if key is not None and idempotency_expires_at is not None:
                await conn.execute(
                    idempotency_keys.insert().values(
                        account_id=message.account_id,
                        key=key,
                        message_id=message.id,
                        expires_at=idempotency_expires_at,
                    )
                )
        return Published(message=message, deliveries=len(chosen), created=True)

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
