"""Event sources, their watched addresses, and their follow state (cursor, recent blocks,
tracked notifications), with the follower's lease on the source row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from hookline.domain.models import Page, Published
from hookline.domain.sources import Cursor, Source, SourceStatus, Tracked, WatchedAddress
from hookline.errors import Conflict
from hookline.store.database import Database
from hookline.store.messages import AlsoInTransaction
from hookline.store.pagination import fetch_page
from hookline.store.tables import source_addresses, source_blocks, source_notifications, sources

ACTIVE = SourceStatus.ACTIVE.value


class LeaseLost(Conflict):
    """Another worker follows this source now (or it was paused or deleted)."""

    code = "source_lease_lost"


def source_from_row(row: Any) -> Source:
    cursor = Cursor(row.cursor_block, row.cursor_hash) if row.cursor_block is not None else None
    return Source(
        id=row.id,
        account_id=row.account_id,
        kind=row.kind,
        name=row.name,
        rpc_url=row.rpc_url,
        chain_id=row.chain_id,
        confirmations=tuple(row.confirmations),
        poll_interval=float(row.poll_interval),
        start_block=row.start_block,
        status=SourceStatus(row.status),
        cursor=cursor,
        head_block=row.head_block,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _address_from_row(row: Any) -> WatchedAddress:
    return WatchedAddress(row.source_id, row.address, row.label, row.created_at)


def _tracked_from_row(row: Any) -> Tracked:
    return Tracked(
        ref=row.ref,
        event_type=row.event_type,
        block_number=row.block_number,
        block_hash=row.block_hash,
        data=orjson.loads(row.data),
        confirmed=row.confirmed,
        event_ids=tuple(row.event_ids),
    )


@dataclass(frozen=True, slots=True)
class FollowRows:
    source: Source
    addresses: dict[str, str | None]
    tracked: tuple[Tracked, ...]
    blocks: dict[int, str]


@dataclass(frozen=True, slots=True)
class Progress:
    """What a committed follow step changes besides publishing its events."""

    head: int | None
    cursor: Cursor | None
    rewound: bool
    blocks: Sequence[tuple[int, str]]
    new_tracked: Sequence[Tracked]
    confirmed: dict[str, int]
    # idempotency key of each published event -> the tracked ref it belongs to
    tracked_keys: dict[str, str]
    keep_blocks: int


class SourceRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the resource ------------------------------------------------------------------

    async def insert(self, source: Source) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                sources.insert().values(
                    id=source.id,
                    account_id=source.account_id,
                    kind=source.kind,
                    name=source.name,
                    rpc_url=source.rpc_url,
                    chain_id=source.chain_id,
                    confirmations=list(source.confirmations),
                    poll_interval=source.poll_interval,
                    start_block=source.start_block,
                    status=source.status.value,
                    created_at=source.created_at,
                    updated_at=source.updated_at,
                )
            )

    async def get(self, account_id: str, source_id: str) -> Source | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(sources).where(
                        sources.c.id == source_id, sources.c.account_id == account_id
                    )
                )
            ).first()
        return source_from_row(row) if row else None

    async def list_page(self, account_id: str, *, cursor: str | None, limit: int) -> Page[Source]:
        stmt = sa.select(sources).where(sources.c.account_id == account_id)
        async with self.db.read() as conn:
            return await fetch_page(
                conn, stmt, sources.c.id, cursor=cursor, limit=limit, convert=source_from_row
            )

    async def update(
        self, account_id: str, source_id: str, values: dict[str, Any]
    ) -> Source | None:
        if "confirmations" in values:
            values = {**values, "confirmations": list(values["confirmations"])}
        async with self.db.write() as conn:
            row = (
                await conn.execute(
                    sources.update()
                    .where(sources.c.id == source_id, sources.c.account_id == account_id)
                    .values(**values)
                    .returning(*sources.c)
                )
            ).first()
        return source_from_row(row) if row else None

    async def delete(self, account_id: str, source_id: str) -> bool:
        """Remove the source and its follow state; events it published stay."""
        async with self.db.write() as conn:
            owned = (
                await conn.execute(
                    sa.select(sources.c.id).where(
                        sources.c.id == source_id, sources.c.account_id == account_id
                    )
                )
            ).first()
            if owned is None:
                return False
            for table in (source_addresses, source_blocks, source_notifications):
                await conn.execute(table.delete().where(table.c.source_id == source_id))
            await conn.execute(sources.delete().where(sources.c.id == source_id))
        return True

    # -- watched addresses -------------------------------------------------------------

    async def add_addresses(
        self, source_id: str, entries: Sequence[tuple[str, str | None]], now: datetime
    ) -> list[WatchedAddress]:
        """Watch each ``(address, label)``; one already watched keeps its date and takes
        the new label when one is given."""
        async with self.db.write() as conn:
            given = [a for a, _ in entries]
            existing = {
                r.address: r
                for r in await conn.execute(
                    sa.select(source_addresses).where(
                        source_addresses.c.source_id == source_id,
                        source_addresses.c.address.in_(given),
                    )
                )
            }
            new = [
                {"source_id": source_id, "address": a, "label": label, "created_at": now}
                for a, label in dict(entries).items()
                if a not in existing
            ]
            if new:
                await conn.execute(source_addresses.insert(), new)
            for address, label in entries:
                if address in existing and label is not None:
                    await conn.execute(
                        source_addresses.update()
                        .where(
                            source_addresses.c.source_id == source_id,
                            source_addresses.c.address == address,
                        )
                        .values(label=label)
                    )
            rows = await conn.execute(
                sa.select(source_addresses)
                .where(
                    source_addresses.c.source_id == source_id,
                    source_addresses.c.address.in_(given),
                )
                .order_by(source_addresses.c.address)
            )
            return [_address_from_row(r) for r in rows]

    async def list_addresses(
        self, source_id: str, *, after: str | None, limit: int
    ) -> tuple[list[WatchedAddress], str | None]:
        stmt = sa.select(source_addresses).where(source_addresses.c.source_id == source_id)
        if after:
            stmt = stmt.where(source_addresses.c.address > after)
        async with self.db.read() as conn:
            rows = (
                await conn.execute(stmt.order_by(source_addresses.c.address).limit(limit + 1))
            ).all()
        items = [_address_from_row(r) for r in rows[:limit]]
        return items, (items[-1].address if len(rows) > limit else None)

    async def count_addresses(self, source_id: str) -> int:
        async with self.db.read() as conn:
            return int(
                (
                    await conn.execute(
                        sa.select(sa.func.count())
                        .select_from(source_addresses)
                        .where(source_addresses.c.source_id == source_id)
                    )
                ).scalar_one()
            )

    async def remove_address(self, source_id: str, address: str) -> bool:
        async with self.db.write() as conn:
            result = await conn.execute(
                source_addresses.delete().where(
                    source_addresses.c.source_id == source_id,
                    source_addresses.c.address == address,
                )
            )
        return bool(result.rowcount)

    # -- following ---------------------------------------------------------------------

    async def claim(
        self, owner: str, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[str]:
        """Lease up to ``limit`` active sources nobody holds (or whose lease ran out)."""
        free = sa.or_(sources.c.lease_owner.is_(None), sources.c.lease_expires_at < now)
        async with self.db.read() as conn:
            # A read first: idle polls cost no write transaction.
            if not (
                await conn.execute(
                    sa.select(sources.c.id).where(sources.c.status == ACTIVE, free).limit(1)
                )
            ).first():
                return []
        due = sa.select(sources.c.id).where(sources.c.status == ACTIVE, free).limit(limit)
        if not self.db.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        async with self.db.write() as conn:
            return list(
                (
                    await conn.execute(
                        sources.update()
                        .where(sources.c.id.in_(due.scalar_subquery()))
                        .values(lease_owner=owner, lease_expires_at=lease_until)
                        .returning(sources.c.id)
                    )
                )
                .scalars()
                .all()
            )

    async def follow_rows(
        self, source_id: str, owner: str, *, lease_until: datetime
    ) -> FollowRows | None:
        """Renew the lease and read what a step needs; None when the source is no longer
        this owner's to follow (taken over, paused or deleted)."""
        async with self.db.write() as conn:
            row = (
                await conn.execute(
                    sources.update()
                    .where(
                        sources.c.id == source_id,
                        sources.c.lease_owner == owner,
                        sources.c.status == ACTIVE,
                    )
                    .values(lease_expires_at=lease_until)
                    .returning(*sources.c)
                )
            ).first()
            if row is None:
                return None
            addresses = {
                r.address: r.label
                for r in await conn.execute(
                    sa.select(source_addresses.c.address, source_addresses.c.label).where(
                        source_addresses.c.source_id == source_id
                    )
                )
            }
            tracked = tuple(
                _tracked_from_row(r)
                for r in await conn.execute(
                    sa.select(source_notifications)
                    .where(source_notifications.c.source_id == source_id)
                    .order_by(source_notifications.c.block_number)
                )
            )
            blocks = {
                r.number: r.hash
                for r in await conn.execute(
                    sa.select(source_blocks.c.number, source_blocks.c.hash).where(
                        source_blocks.c.source_id == source_id
                    )
                )
            }
        return FollowRows(source_from_row(row), addresses, tracked, blocks)

    async def release(self, source_id: str, owner: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                sources.update()
                .where(sources.c.id == source_id, sources.c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    async def record_error(
        self, source_id: str, owner: str, message: str, now: datetime, head: int | None
    ) -> None:
        values: dict[str, Any] = {"last_error": message[:1000], "last_error_at": now}
        if head is not None:
            values["head_block"] = head
        async with self.db.write() as conn:
            await conn.execute(
                sources.update()
                .where(sources.c.id == source_id, sources.c.lease_owner == owner)
                .values(**values)
            )

    def progress(self, source_id: str, owner: str, p: Progress) -> AlsoInTransaction:
        """The store work of one follow step, to run in its events' transaction. Raises
        :class:`LeaseLost` (rolling everything back) if this owner no longer holds it."""

        async def apply(conn: Any, published: list[Published]) -> None:
            values: dict[str, Any] = {"last_error": None, "last_error_at": None}
            if p.head is not None:
                values["head_block"] = p.head
            if p.cursor is not None:
                values |= {"cursor_block": p.cursor.block, "cursor_hash": p.cursor.hash}
            held = await conn.execute(
                sources.update()
                .where(
                    sources.c.id == source_id,
                    sources.c.lease_owner == owner,
                    sources.c.status == ACTIVE,
                )
                .values(**values)
            )
            if not held.rowcount:
                raise LeaseLost()
            if p.rewound and p.cursor is not None:
                above = p.cursor.block
                await conn.execute(
                    source_blocks.delete().where(
                        source_blocks.c.source_id == source_id, source_blocks.c.number > above
                    )
                )
                await conn.execute(
                    source_notifications.delete().where(
                        source_notifications.c.source_id == source_id,
                        source_notifications.c.block_number > above,
                    )
                )
            ids: dict[str, list[str]] = {}
            for item in published:
                ref = p.tracked_keys.get(item.message.idempotency_key or "")
                if ref is not None:
                    ids.setdefault(ref, []).append(item.message.id)
            if p.blocks:
                await conn.execute(
                    source_blocks.insert(),
                    [{"source_id": source_id, "number": n, "hash": h} for n, h in p.blocks],
                )
            if p.new_tracked:
                await conn.execute(
                    source_notifications.insert(),
                    [
                        {
                            "source_id": source_id,
                            "ref": t.ref,
                            "event_type": t.event_type,
                            "block_number": t.block_number,
                            "block_hash": t.block_hash,
                            "data": orjson.dumps(t.data).decode(),
                            "confirmed": t.confirmed,
                            "event_ids": ids.get(t.ref, []),
                        }
                        for t in p.new_tracked
                    ],
                )
            fresh = {t.ref for t in p.new_tracked}
            for ref, confirmed in p.confirmed.items():
                if ref in fresh:
                    continue
                where = (source_notifications.c.source_id == source_id) & (
                    source_notifications.c.ref == ref
                )
                before = (
                    await conn.execute(sa.select(source_notifications.c.event_ids).where(where))
                ).scalar_one_or_none()
                if before is None:
                    continue
                await conn.execute(
                    source_notifications.update()
                    .where(where)
                    .values(confirmed=confirmed, event_ids=[*before, *ids.get(ref, [])])
                )
            if p.cursor is not None:
                floor = p.cursor.block - p.keep_blocks
                await conn.execute(
                    source_blocks.delete().where(
                        source_blocks.c.source_id == source_id, source_blocks.c.number <= floor
                    )
                )
                await conn.execute(
                    source_notifications.delete().where(
                        source_notifications.c.source_id == source_id,
                        source_notifications.c.block_number <= floor,
                    )
                )

        return apply
