"""Wallets (balances), the ledger, and usage reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.domain.gateway import CallStatus, LedgerEntry, LedgerKind, UsageRow, Wallet
from hookline.domain.models import Page
from hookline.store.database import Database
from hookline.store.gateway_endpoints import rotate_gateway_secrets
from hookline.store.pagination import fetch_page
from hookline.store.tables import calls, ledger_entries, wallets


def wallet_from_row(row: Any) -> Wallet:
    return Wallet(
        account_id=row.account_id,
        balance=int(row.balance),
        reserved=int(row.reserved),
        signing_secret=row.signing_secret,
        updated_at=row.updated_at,
    )


def entry_from_row(row: Any) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        account_id=row.account_id,
        settlement_id=row.settlement_id,
        call_id=row.call_id,
        api_id=row.api_id,
        kind=LedgerKind(row.kind),
        amount=int(row.amount),
        note=row.note,
        created_at=row.created_at,
    )


async def ensure_wallet(
    conn: AsyncConnection, account_id: str, secret: str, now: datetime
) -> Wallet:
    """The account's wallet, created empty (with ``secret`` for signing) if it has none."""
    values = {
        "account_id": account_id,
        "balance": 0,
        "reserved": 0,
        "signing_secret": secret,
        "created_at": now,
        "updated_at": now,
    }
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    await conn.execute(
        insert(wallets).values(**values).on_conflict_do_nothing(index_elements=["account_id"])
    )
    row = (await conn.execute(sa.select(wallets).where(wallets.c.account_id == account_id))).one()
    return wallet_from_row(row)


async def reserve(conn: AsyncConnection, account_id: str, amount: int, now: datetime) -> bool:
    """Move ``amount`` from spendable to reserved, only if the balance covers it. The
    condition and the change are one statement, so concurrent calls cannot overdraw."""
    if amount == 0:
        return True
    result = await conn.execute(
        wallets.update()
        .where(wallets.c.account_id == account_id, wallets.c.balance >= amount)
        .values(
            balance=wallets.c.balance - amount,
            reserved=wallets.c.reserved + amount,
            updated_at=now,
        )
    )
    return bool(result.rowcount == 1)


async def release(
    conn: AsyncConnection, account_id: str, amount: int, *, captured: bool, now: datetime
) -> None:
    """End a reservation: back to the balance, or (captured) gone to the owner."""
    if amount == 0:
        return
    values: dict[str, Any] = {"reserved": wallets.c.reserved - amount, "updated_at": now}
    if not captured:
        values["balance"] = wallets.c.balance + amount
    await conn.execute(wallets.update().where(wallets.c.account_id == account_id).values(values))


async def add_to_balance(
    conn: AsyncConnection, account_id: str, amount: int, secret: str, now: datetime
) -> None:
    add = (
        wallets.update()
        .where(wallets.c.account_id == account_id)
        .values(balance=wallets.c.balance + amount, updated_at=now)
    )
    if (await conn.execute(add)).rowcount == 0:  # first money this account receives
        await ensure_wallet(conn, account_id, secret, now)
        await conn.execute(add)


class WalletRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, account_id: str, new_secret: str, now: datetime) -> Wallet:
        async with self.db.write() as conn:
            return await ensure_wallet(conn, account_id, new_secret, now)

    async def credit(self, entry: LedgerEntry, new_secret: str) -> Wallet:
        """Add funds (an admin's credit) and log it, in one transaction."""
        async with self.db.write() as conn:
            await add_to_balance(conn, entry.account_id, entry.amount, new_secret, entry.created_at)
            await conn.execute(ledger_entries.insert().values(**entry_values(entry)))
            row = (
                await conn.execute(
                    sa.select(wallets).where(wallets.c.account_id == entry.account_id)
                )
            ).one()
            return wallet_from_row(row)

    async def rotate_secret(
        self, account_id: str, secret: str, grace_until: datetime, now: datetime
    ) -> Wallet:
        """A new signing secret for results; endpoints already made for this account
        sign with both until ``grace_until``."""
        async with self.db.write() as conn:
            await ensure_wallet(conn, account_id, secret, now)
            await conn.execute(
                wallets.update()
                .where(wallets.c.account_id == account_id)
                .values(signing_secret=secret, updated_at=now)
            )
            await rotate_gateway_secrets(conn, account_id, secret, grace_until, now)
            row = (
                await conn.execute(sa.select(wallets).where(wallets.c.account_id == account_id))
            ).one()
            return wallet_from_row(row)

    async def ledger(
        self, account_id: str, *, call_id: str | None, cursor: str | None, limit: int
    ) -> Page[LedgerEntry]:
        stmt = sa.select(ledger_entries).where(ledger_entries.c.account_id == account_id)
        if call_id is not None:
            stmt = stmt.where(ledger_entries.c.call_id == call_id)
        async with self.db.read() as conn:
            return await fetch_page(
                conn, stmt, ledger_entries.c.id, cursor=cursor, limit=limit, convert=entry_from_row
            )

    async def usage(
        self,
        account_id: str,
        *,
        as_owner: bool,
        period: str,
        since: datetime | None,
        until: datetime | None,
        api_id: str | None,
    ) -> list[UsageRow]:
        """Finished calls per API and period (``day`` or ``month``, UTC), with the amount
        charged (as consumer) or earned (as owner)."""
        async with self.db.read() as conn:
            bucket = _period(conn.dialect.name, period)
            who = calls.c.owner_id if as_owner else calls.c.consumer_id
            succeeded = calls.c.status == CallStatus.SUCCEEDED.value
            stmt = (
                sa.select(
                    calls.c.api_id,
                    bucket.label("period"),
                    sa.func.count().label("calls"),
                    sa.func.sum(sa.case((succeeded, 1), else_=0)).label("succeeded"),
                    sa.func.sum(sa.case((succeeded, 0), else_=1)).label("failed"),
                    sa.func.sum(sa.case((calls.c.test, 1), else_=0)).label("test_calls"),
                    sa.func.sum(calls.c.cost).label("amount"),
                )
                .where(who == account_id, calls.c.completed_at.is_not(None))
                .group_by(calls.c.api_id, bucket)
                .order_by(bucket, calls.c.api_id)
            )
            if since is not None:
                stmt = stmt.where(calls.c.completed_at >= since)
            if until is not None:
                stmt = stmt.where(calls.c.completed_at < until)
            if api_id is not None:
                stmt = stmt.where(calls.c.api_id == api_id)
            rows = (await conn.execute(stmt)).all()
        return [
            UsageRow(
                api_id=r.api_id,
                period=str(r.period),
                calls=int(r.calls),
                succeeded=int(r.succeeded or 0),
                failed=int(r.failed or 0),
                test_calls=int(r.test_calls or 0),
                amount=int(r.amount or 0),
            )
            for r in rows
        ]


def _period(dialect: str, period: str) -> sa.ColumnElement[str]:
    if dialect == "postgresql":
        fmt = "YYYY-MM-DD" if period == "day" else "YYYY-MM"
        return sa.func.to_char(sa.func.timezone("UTC", calls.c.completed_at), fmt)
    return sa.func.strftime("%Y-%m-%d" if period == "day" else "%Y-%m", calls.c.completed_at)


def entry_values(e: LedgerEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "account_id": e.account_id,
        "settlement_id": e.settlement_id,
        "call_id": e.call_id,
        "api_id": e.api_id,
        "kind": e.kind.value,
        "amount": e.amount,
        "note": e.note,
        "created_at": e.created_at,
    }
