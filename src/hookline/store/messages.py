"""Messages (events) and the transactional fan-out that creates their deliveries."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from hookline.domain.models import (
    DeliveryMode,
    DeliveryStatus,
    Dispatch,
    Endpoint,
    EndpointStatus,
    Message,
    Page,
    Published,
    Trigger,
)
from hookline.errors import StoreUnavailable
from hookline.store.database import Database
from hookline.store.endpoints import endpoint_from_row
from hookline.store.fanout import LIVE, delivery_row, message_row
from hookline.store.pagination import fetch_page
from hookline.store.tables import deliveries, endpoints, event_types, idempotency_keys, messages


def message_from_row(row: Any) -> Message:
    return Message(
        id=row.id,
        account_id=row.account_id,
        app_id=row.app_id,
        event_type=row.event_type,
        payload=row.payload,
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
        trace_context=row.trace_context,
        channels=tuple(row.channels) if row.channels is not None else None,
        tags=tuple(row.tags) if row.tags is not None else None,
        deliver_at=row.deliver_at,
    )


@dataclass(slots=True)
class _PublishRequest:
    batch: Sequence[Message]
    select_endpoints: Callable[[Message, list[Endpoint]], list[Endpoint]]
    new_delivery_id: Callable[[], str]
    idempotency_expires_at: datetime
    answer: asyncio.Future[list[Published]]
    type_versions: Mapping[str, int | None] | None = None


@dataclass(frozen=True, slots=True)
class MessageFilters:
    event_types: Sequence[str] = ()
    channel: str | None = None
    tag: str | None = None
    before: datetime | None = None
    after: datetime | None = None

    def apply(self, stmt: sa.Select[Any]) -> sa.Select[Any]:
        if self.event_types:
            stmt = stmt.where(messages.c.event_type.in_(list(self.event_types)))
        # Channels and tags are short JSON lists of names without quotes: a quoted
        # name found in the list's text is in the list.
        for column, name in ((messages.c.channels, self.channel), (messages.c.tags, self.tag)):
            if name is not None:
                quoted = '"' + name.replace("\\", "\\\\").replace("_", "\\_") + '"'
                stmt = stmt.where(sa.cast(column, sa.Text).like(f"%{quoted}%", escape="\\"))
        if self.before is not None:
            stmt = stmt.where(messages.c.created_at < self.before)
        if self.after is not None:
            stmt = stmt.where(messages.c.created_at > self.after)
        return stmt


class StaleCatalog(Exception):
    """The event types changed since the caller checked them: check again, publish again."""


# Work another repository does in a publish's own transaction, given what was published
# (for example advancing a chain source's cursor past the blocks these events came from).
AlsoInTransaction = Callable[[Any, list[Published]], Awaitable[None]]

# How many messages one group commit takes at most (a single larger batch goes alone).
MAX_GROUP_MESSAGES = 1000

SENDING = DeliveryStatus.SENDING.value


class Handoff(Protocol):
    """The delivery worker of this process, taking deliveries as they are published.

    A delivery it reserves a send slot for is written already leased to it (status
    ``sending``, its lease in the row), in the publish transaction, and handed to it
    once that transaction commits: no claim transaction, no wake-up round. If the
    process dies first, the lease expires and any worker sends it, as after a claim.
    """

    @property
    def owner(self) -> str: ...

    def reserve(self, endpoint_id: str) -> datetime | None:
        """A send slot for one delivery to this webhook: the end of its lease, or None
        (no free slot, or the worker is stopping)."""
        ...

    def unreserve(self, endpoint_ids: Sequence[str]) -> None:
        """Give back slots whose transaction did not commit."""
        ...

    def hand(self, dispatches: Sequence[Dispatch]) -> None:
        """Send these, whose leased rows have committed."""
        ...

    def controlled_due(self) -> None:
        """Deliveries due now to controlled webhooks have committed: the next claim
        should look at those webhooks."""
        ...


# The statements of every publish transaction, built once: SQLAlchemy then keeps each
# one's cache key instead of building the expression and its key on every publish.
_INSERT_MESSAGES = messages.insert()
_INSERT_DELIVERIES = deliveries.insert()
_INSERT_KEYS = idempotency_keys.insert()
_CATALOG_VERSIONS = sa.select(event_types.c.name, event_types.c.version).where(
    event_types.c.account_id == sa.bindparam("account_id"),
    event_types.c.name.in_(sa.bindparam("names", expanding=True)),
)
_AUDIENCE = sa.select(endpoints).where(
    endpoints.c.account_id == sa.bindparam("account_id"),
    endpoints.c.app_id == sa.bindparam("app_id"),
    endpoints.c.status.in_(LIVE),
)

# The endpoints one publish transaction read for an account and application, and the
# ids of those whose new deliveries may be handed to this process's worker.
_Audience = tuple[list[Endpoint], frozenset[str]]


@dataclass(slots=True)
class _Rows:
    """What one publish transaction writes, gathered from all its publishes and
    inserted at the end, one statement per table; and the idempotency keys it took."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)
    taken: dict[tuple[str, str], Published] = field(default_factory=dict)

    async def insert(self, conn: Any) -> None:
        # Messages first: deliveries and keys refer to them.
        if self.messages:
            await conn.execute(_INSERT_MESSAGES, self.messages)
        if self.deliveries:
            await conn.execute(_INSERT_DELIVERIES, self.deliveries)
        if self.keys:
            await conn.execute(_INSERT_KEYS, self.keys)


class MessageRepository:
    """Messages and their fan-out.

    Publishes are group-committed: while one write transaction runs, the publishes that
    arrive queue up, and the next transaction writes all of them behind a single commit.
    A durable commit costs a disk flush, so on a single-writer database (SQLite) this is
    what lets concurrent publishers go faster than the disk flushes; nobody is answered
    before their commit. If a group fails for a reason other than the store being
    unavailable, each publish in it is written again alone, so one bad publish fails
    alone, and one that raced another process for an idempotency key finds the winner.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: deque[_PublishRequest] = deque()
        self._writer: asyncio.Task[None] | None = None
        # Set while a delivery worker runs in this process (System.start_worker).
        self.handoff: Handoff | None = None

    async def publish(
        self,
        batch: Sequence[Message],
        *,
        select_endpoints: Callable[[Message, list[Endpoint]], list[Endpoint]],
        new_delivery_id: Callable[[], str],
        idempotency_expires_at: datetime,
        type_versions: Mapping[str, int | None] | None = None,
    ) -> list[Published]:
        """Write messages of one account and application, each with one pending delivery
        per endpoint ``select_endpoints`` chooses, atomically.

        ``type_versions`` (name -> the catalog version the caller checked the data
        against, None for a type not in the catalog) is verified inside the transaction:
        if any differs, nothing is written and :class:`StaleCatalog` is raised.

        A message whose idempotency key is still live (earlier, or earlier in this batch)
        writes nothing and answers with the first message instead (``created`` False).
        """
        if not batch:
            return []
        account_id, app_id = batch[0].account_id, batch[0].app_id
        if any(m.account_id != account_id or m.app_id != app_id for m in batch):
            raise ValueError("a publish batch belongs to one account and application")
        answer: asyncio.Future[list[Published]] = asyncio.get_running_loop().create_future()
        self._queue.append(
            _PublishRequest(
                batch,
                select_endpoints,
                new_delivery_id,
                idempotency_expires_at,
                answer,
                type_versions,
            )
        )
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued(), name="hookline-publish")
        return await answer

    async def publish_with(
        self,
        batch: Sequence[Message],
        *,
        select_endpoints: Callable[[Message, list[Endpoint]], list[Endpoint]],
        new_delivery_id: Callable[[], str],
        idempotency_expires_at: datetime,
        also: AlsoInTransaction,
        type_versions: Mapping[str, int | None] | None = None,
    ) -> list[Published]:
        """Like :meth:`publish`, in a transaction of its own (not group-committed) that
        also runs ``also``: both commit, or neither does. ``batch`` may be empty."""
        if any(m.account_id != batch[0].account_id or m.app_id != batch[0].app_id for m in batch):
            raise ValueError("a publish batch belongs to one account and application")
        answer: asyncio.Future[list[Published]] = asyncio.get_running_loop().create_future()
        req = _PublishRequest(
            batch, select_endpoints, new_delivery_id, idempotency_expires_at, answer, type_versions
        )
        async with self.db.write() as conn:
            published: list[Published] = []
            if batch:
                await self._verify_types(conn, [req])
                rows = _Rows()
                published = await self._write_batch(conn, req, {}, None, rows)
                await rows.insert(conn)
            await also(conn, published)
        return published

    async def _write_queued(self) -> None:
        while self._queue:
            group = [self._queue.popleft()]
            size = len(group[0].batch)
            while self._queue and size + len(self._queue[0].batch) <= MAX_GROUP_MESSAGES:
                size += len(self._queue[0].batch)
                group.append(self._queue.popleft())
            try:
                written = await self._write_group(group)
            except StoreUnavailable as exc:
                _settle(group, exc)
            except Exception:
                # Each publish again, alone: this isolates the one that broke a group, and
                # answers a publish that lost an idempotency-key race to another process
                # (its key is now visible) with the event that won.
                for req in group:
                    try:
                        alone = await self._write_group([req])
                    except Exception as one:
                        _settle([req], one)
                    else:
                        _settle([req], alone[0])
            except BaseException as exc:  # cancelled: fail what still waits, too
                _settle([*group, *self._queue], exc)
                self._queue.clear()
                raise
            else:
                for req, result in zip(group, written, strict=True):
                    _settle([req], result)

    async def _write_group(self, group: list[_PublishRequest]) -> list[list[Published]]:
        handoff = self.handoff
        handed: list[Dispatch] | None = [] if handoff is not None else None
        try:
            async with self.db.write() as conn:
                await self._verify_types(conn, group)
                audiences: dict[tuple[str, str], _Audience] = {}
                rows = _Rows()
                written = [
                    await self._write_batch(conn, req, audiences, handed, rows) for req in group
                ]
                await rows.insert(conn)
        except BaseException:
            if handoff is not None and handed:
                handoff.unreserve([d.endpoint.id for d in handed])
            raise
        if handoff is not None:
            if handed:
                handoff.hand(handed)
            if any(p.controlled for batch in written for p in batch):
                handoff.controlled_due()
        return written

    async def _write_batch(
        self,
        conn: Any,
        req: _PublishRequest,
        cache: dict[tuple[str, str], _Audience],
        handed: list[Dispatch] | None,
        out: _Rows,
    ) -> list[Published]:
        """One publish's messages and deliveries, added to ``out`` (the caller inserts
        them); its catalog versions were verified by the caller."""
        batch, select_endpoints = req.batch, req.select_endpoints
        new_delivery_id, idempotency_expires_at = req.new_delivery_id, req.idempotency_expires_at
        account_id, app_id = batch[0].account_id, batch[0].app_id
        # Endpoints cannot change inside this transaction: one read serves the group.
        # Disabled ones are read too: what they subscribe to is kept for them, held.
        audience = cache.get((account_id, app_id))
        if audience is None:
            rows = (
                await conn.execute(_AUDIENCE, {"account_id": account_id, "app_id": app_id})
            ).all()
            # Handed over: active push webhooks off the controlled path (no rate limit,
            # FIFO, pause or circuit decides when they may be sent).
            plain = frozenset(
                r.id
                for r in rows
                if r.status == EndpointStatus.ACTIVE.value
                and r.mode == DeliveryMode.PUSH.value
                and not r.controlled
            )
            audience = cache[(account_id, app_id)] = ([endpoint_from_row(r) for r in rows], plain)
        active, plain = audience
        handoff = self.handoff if handed is not None else None
        results: list[Published] = []
        new_messages, new_deliveries, taken = out.messages, out.deliveries, out.taken
        for message in batch:
            key = message.idempotency_key
            if key is not None:
                # A key taken earlier in this transaction is not in the table yet.
                earlier = taken.get((account_id, key)) or await self._live_idempotent(
                    conn, account_id, key, message.created_at
                )
                if earlier is not None:
                    results.append(Published(earlier.message, earlier.deliveries, False))
                    continue
            chosen = select_endpoints(message, active)
            new_messages.append(message_row(message))
            due_now = message.due_at <= message.created_at
            held = given = 0
            controlled = False
            for ep in chosen:
                row = delivery_row(
                    message, ep.id, new_delivery_id(), held=ep.status is not EndpointStatus.ACTIVE
                )
                new_deliveries.append(row)
                if row["status"] == DeliveryStatus.HELD.value:
                    held += 1
                elif ep.id not in plain:
                    controlled = controlled or due_now
                elif handoff is not None and handed is not None and due_now:
                    lease_until = handoff.reserve(ep.id)
                    if lease_until is not None:
                        row |= {
                            "status": SENDING,
                            "lease_owner": handoff.owner,
                            "lease_expires_at": lease_until,
                        }
                        handed.append(
                            Dispatch(
                                delivery_id=row["id"],
                                attempts=0,
                                trigger=Trigger.SCHEDULED,
                                message=message,
                                endpoint=ep,
                            )
                        )
                        given += 1
            published = Published(
                message=message,
                deliveries=len(chosen) - held,
                created=True,
                held=held,
                handed=given,
                controlled=controlled,
            )
            if key is not None:
                taken[(account_id, key)] = published
                out.keys.append(
                    {
                        "account_id": account_id,
                        "key": key,
                        "message_id": message.id,
                        "expires_at": idempotency_expires_at,
                    }
                )
            results.append(published)
        return results

    async def _verify_types(self, conn: Any, group: Sequence[_PublishRequest]) -> None:
        """Raise :class:`StaleCatalog` if any publish's catalog versions are no longer
        those in the store: one read per account for the whole group."""
        wanted: dict[str, set[str]] = {}
        for req in group:
            if req.type_versions is not None:
                wanted.setdefault(req.batch[0].account_id, set()).update(req.type_versions)
        for account_id, names in wanted.items():
            rows = await conn.execute(
                _CATALOG_VERSIONS, {"account_id": account_id, "names": sorted(names)}
            )
            found: dict[str, int | None] = dict.fromkeys(names)
            found.update({r.name: r.version for r in rows})
            for req in group:
                if (
                    req.type_versions is not None
                    and req.batch[0].account_id == account_id
                    and any(found[name] != v for name, v in req.type_versions.items())
                ):
                    raise StaleCatalog()

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

    async def deliver_to(
        self,
        message: Message,
        endpoint_id: str,
        delivery_id: str,
        *,
        now: datetime,
        new: bool,
        test: bool,
    ) -> None:
        """One pending delivery of ``message`` to one endpoint, whatever it subscribes to
        (a test event, or a resend); ``new`` writes the message too, in the same
        transaction."""
        async with self.db.write() as conn:
            if new:
                await conn.execute(messages.insert().values(**message_row(message)))
            row = delivery_row(message, endpoint_id, delivery_id, test=test)
            # A resend goes out now, not when the event was first published.
            row["next_attempt_at"] = row["created_at"] = row["updated_at"] = now
            await conn.execute(deliveries.insert().values(**row))

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
        self,
        account_id: str,
        *,
        event_type: str | None,
        cursor: str | None,
        limit: int,
        app_id: str | None = None,
        filters: MessageFilters | None = None,
    ) -> Page[Message]:
        stmt = sa.select(messages).where(messages.c.account_id == account_id)
        if event_type:
            stmt = stmt.where(messages.c.event_type == event_type)
        if app_id is not None:
            stmt = stmt.where(messages.c.app_id == app_id)
        if filters is not None:
            stmt = filters.apply(stmt)
        async with self.db.read() as conn:
            return await fetch_page(
                conn, stmt, messages.c.id, cursor=cursor, limit=limit, convert=message_from_row
            )


def _settle(requests: list[_PublishRequest], outcome: list[Published] | BaseException) -> None:
    for req in requests:
        if req.answer.done():  # the caller went away; what was written stays written
            continue
        if isinstance(outcome, BaseException):
            req.answer.set_exception(outcome)
        else:
            req.answer.set_result(outcome)
