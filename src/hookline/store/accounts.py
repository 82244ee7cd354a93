"""Accounts, their API keys and their applications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hookline.domain.models import Account, ApiKey, Page
from hookline.store.database import Database
from hookline.store.pagination import fetch_page
from hookline.store.tables import accounts, api_keys, applications

DEFAULT_APP_UID = "default"


def _account(row: sa.Row[Any]) -> Account:
    return Account(id=row.id, name=row.name, created_at=row.created_at)


def _key(row: sa.Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class AccountRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, account: Account, app_id: str, key: ApiKey, key_hash: str) -> None:
        """The account, its default application and its first key, in one transaction."""
        async with self.db.write() as conn:
            await conn.execute(
                accounts.insert().values(
                    id=account.id, name=account.name, created_at=account.created_at
                )
            )
            await conn.execute(
                applications.insert().values(
                    id=app_id,
                    account_id=account.id,
                    uid=DEFAULT_APP_UID,
                    name="default",
                    created_at=account.created_at,
                )
            )
            await conn.execute(api_keys.insert().values(**_key_values(key, key_hash)))

    async def get(self, account_id: str) -> Account | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(sa.select(accounts).where(accounts.c.id == account_id))
            ).first()
        return _account(row) if row else None

    async def list_page(self, *, cursor: str | None, limit: int) -> Page[Account]:
        async with self.db.read() as conn:
            return await fetch_page(
                conn,
                sa.select(accounts),
                accounts.c.id,
                cursor=cursor,
                limit=limit,
                convert=_account,
            )

    async def default_app_id(self, account_id: str) -> str:
        async with self.db.read() as conn:
            value = (
                await conn.execute(
                    sa.select(applications.c.id).where(
                        applications.c.account_id == account_id,
                        applications.c.uid == DEFAULT_APP_UID,
                    )
                )
            ).scalar_one()
        return str(value)

    async def add_key(self, key: ApiKey, key_hash: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(api_keys.insert().values(**_key_values(key, key_hash)))

    async def list_keys(self, account_id: str) -> list[ApiKey]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(api_keys)
                .where(api_keys.c.account_id == account_id)
                .order_by(api_keys.c.id)
            )
            return [_key(r) for r in rows]

    async def revoke_key(self, account_id: str, key_id: str, now: datetime) -> ApiKey | None:
        async with self.db.write() as conn:
            await conn.execute(
                api_keys.update()
                .where(
                    api_keys.c.id == key_id,
                    api_keys.c.account_id == account_id,
                    api_keys.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            row = (
                await conn.execute(
                    sa.select(api_keys).where(
                        api_keys.c.id == key_id, api_keys.c.account_id == account_id
                    )
                )
            ).first()
        return _key(row) if row else None

    async def account_for_key(self, key_hash: str) -> str | None:
        """The account a live (unrevoked) key belongs to."""
        async with self.db.read() as conn:
            value = (
                await conn.execute(
                    sa.select(api_keys.c.account_id).where(
                        api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
                    )
                )
            ).scalar_one_or_none()
        return str(value) if value is not None else None


def _key_values(key: ApiKey, key_hash: str) -> dict[str, Any]:
    return {
        "id": key.id,
        "account_id": key.account_id,
        "key_hash": key_hash,
        "prefix": key.prefix,
        "name": key.name,
        "created_at": key.created_at,
        "revoked_at": None,
    }
