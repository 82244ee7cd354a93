"""Messages (events) and the transactional fan-out that creates their deliveries."""

from __future__ import annotations

import asyncio
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


@dataclass(slots=True)
class _PublishRequest:
    message: Message
    select_endpoints: Callable[[list[Endpoint]], list[Endpoint]]
    new_delivery_id: Callable[[], str]
    idempotency_expires_at: datetime | None
    answer: asyncio.Future[Published]


# How many publishes one group commit takes at most; the rest wait for the next one.
MAX_GROUP = 256


class MessageRepository:
    """Messages and their fan-out.

    Publishes are group-committed: while one write transaction is running, the
    publishes that arrive queue up, and the next transaction writes all of them, each in
    its own savepoint, behind a single commit. A durable commit costs one disk flush, so
    on a single-writer database (SQLite) this is what lets concurrent publishers go
    faster than the disk can flush; nobody is answered before their commit.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: list[_PublishRequest] = []
        self._writer: asyncio.Task[None] | None = None

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
        answer: asyncio.Future[Published] = asyncio.get_running_loop().create_future()
        self._queue.append(
            _PublishRequest(
                message, select_endpoints, new_delivery_id, idempotency_expires_at, answer
            )
        )
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued(), name="hookline-publish")
        return await answer

    async def _write_queued(self) -> None:
        while self._queue:
            group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
            done: list[tuple[_PublishRequest, Published | BaseException]] = []
            try:
                async with self.db.write() as conn:
                    endpoint_rows: dict[tuple[str, str], list[Endpoint]] = {}
                    plain = [r for r in group if r.message.idempotency_key is None]
                    if plain:
                        done.extend(await self._write_plain(conn, plain, endpoint_rows))
                    for req in group:
                        if req.message.idempotency_key is None:
                            continue
                        try:
                            async with conn.begin_nested():
                                done.append((req, await self._write(conn, req, endpoint_rows)))
                        except Exception as exc:  # this publish fails alone
                            done.append((req, exc))
            except BaseException as exc:  # the commit failed: nobody's event is stored
                if not isinstance(exc, Exception):  # cancelled: fail what still waits, too
                    group, self._queue = group + self._queue, []
                for req in group:
                    if not req.answer.done():
                        req.answer.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for req, outcome in done:
                if req.answer.done():  # the caller went away; the event is stored anyway
                    continue
                if isinstance(outcome, BaseException):
                    req.answer.set_exception(outcome)
                else:
                    req.answer.set_result(outcome)

    async def _endpoints(
        self, conn: Any, message: Message, cache: dict[tuple[str, str], list[Endpoint]]
    ) -> list[Endpoint]:
        """Active endpoints of the message's application; endpoints cannot change inside
        this transaction, so one read serves the whole group."""
        scope = (message.account_id, message.app_id)
        found = cache.get(scope)
        if found is None:
            rows = await conn.execute(
                sa.select(endpoints).where(
                    endpoints.c.account_id == message.account_id,
                    endpoints.c.app_id == message.app_id,
                    endpoints.c.status == EndpointStatus.ACTIVE.value,
                )
            )
            found = cache[scope] = [endpoint_from_row(r) for r in rows]
        return found

    async def _write_plain(
        self,
        conn: Any,
        group: list[_PublishRequest],
        cache: dict[tuple[str, str], list[Endpoint]],
    ) -> list[tuple[_PublishRequest, Published]]:
        """Publishes without an idempotency key cannot conflict with anything, so they
        are written with one multi-row insert per table instead of row by row."""
        message_rows: list[dict[str, Any]] = []
        delivery_rows: list[dict[str, Any]] = []
        done = []
        for req in group:
            message = req.message
            chosen = req.select_endpoints(await self._endpoints(conn, message, cache))
            message_rows.append(_message_values(message))
            delivery_rows.extend(
                _delivery_values(message, ep, req.new_delivery_id) for ep in chosen
            )
            done.append((req, Published(message=message, deliveries=len(chosen), created=True)))
        await conn.execute(messages.insert(), message_rows)
        if delivery_rows:
            await conn.execute(deliveries.insert(), delivery_rows)
        return done

    async def _write(
        self,
        conn: Any,
        req: _PublishRequest,
        endpoint_rows: dict[tuple[str, str], list[Endpoint]],
    ) -> Published:
        message = req.message
        now = message.created_at
        key = message.idempotency_key
        if key is not None:
            earlier = await self._live_idempotent(conn, message.account_id, key, now)
            if earlier is not None:
                return earlier
        chosen = req.select_endpoints(await self._endpoints(conn, message, endpoint_rows))
        await conn.execute(messages.insert().values(**_message_values(message)))
        if chosen:
            await conn.execute(
                deliveries.insert(),
                [_delivery_values(message, ep, req.new_delivery_id) for ep in chosen],
            )
        if key is not None and req.idempotency_expires_at is not None:
            await conn.execute(
                idempotency_keys.insert().values(
                    account_id=message.account_id,
                    key=key,
                    message_id=message.id,
                    expires_at=req.idempotency_expires_at,
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


def _message_values(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "account_id": message.account_id,
        "app_id": message.app_id,
        "event_type": message.event_type,
        "payload": message.payload.decode(),
        "idempotency_key": message.idempotency_key,
        "created_at": message.created_at,
    }


def _delivery_values(message: Message, ep: Endpoint, new_id: Callable[[], str]) -> dict[str, Any]:
    now = message.created_at
    return {
        "id": new_id(),
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
