"""Console and portal sessions, one-time portal tokens, and portal branding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hookline.store.database import Database
from hookline.store.tables import account_branding, console_sessions, portal_tokens


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: str
    scope: str
    account_id: str | None
    app_id: str | None
    key_hash: str | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Branding:
    account_id: str
    name: str | None
    logo_url: str | None
    accent_color: str | None
    updated_at: datetime | None


def _session(row: sa.Row[Any]) -> SessionRow:
    return SessionRow(
        id=row.id,
        scope=row.scope,
        account_id=row.account_id,
        app_id=row.app_id,
        key_hash=row.key_hash,
        expires_at=row.expires_at,
    )


class ConsoleRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_session(self, session: SessionRow, token_hash: str, now: datetime) -> None:
        async with self.db.write() as conn:
            # Sessions are few and short-lived: whoever signs in clears the expired ones.
            await conn.execute(console_sessions.delete().where(console_sessions.c.expires_at < now))
            await conn.execute(
                console_sessions.insert().values(
                    id=session.id,
                    token_hash=token_hash,
                    scope=session.scope,
                    account_id=session.account_id,
                    app_id=session.app_id,
                    key_hash=session.key_hash,
                    created_at=now,
                    expires_at=session.expires_at,
                )
            )

    async def session(self, token_hash: str, now: datetime) -> SessionRow | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(console_sessions).where(
                        console_sessions.c.token_hash == token_hash,
                        console_sessions.c.expires_at > now,
                    )
                )
            ).first()
        return _session(row) if row else None

    async def end_session(self, token_hash: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                console_sessions.delete().where(console_sessions.c.token_hash == token_hash)
            )

    async def add_portal_token(
        self,
        token_id: str,
        token_hash: str,
        account_id: str,
        app_id: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        async with self.db.write() as conn:
            await conn.execute(portal_tokens.delete().where(portal_tokens.c.expires_at < now))
            await conn.execute(
                portal_tokens.insert().values(
                    id=token_id,
                    token_hash=token_hash,
                    account_id=account_id,
                    app_id=app_id,
                    created_at=now,
                    expires_at=expires_at,
                    used_at=None,
                )
            )

    async def use_portal_token(
        self, token_hash: str, now: datetime
    ) -> tuple[str, str, datetime] | None:
        """Mark an unused, unexpired token used; its account, application and expiry.

        One conditional UPDATE: of two browsers opening the same link at once, one wins.
        """
        async with self.db.write() as conn:
            done = await conn.execute(
                portal_tokens.update()
                .where(
                    portal_tokens.c.token_hash == token_hash,
                    portal_tokens.c.used_at.is_(None),
                    portal_tokens.c.expires_at > now,
                )
                .values(used_at=now)
            )
            if done.rowcount != 1:
                return None
            row = (
                await conn.execute(
                    sa.select(
                        portal_tokens.c.account_id,
                        portal_tokens.c.app_id,
                        portal_tokens.c.expires_at,
                    ).where(portal_tokens.c.token_hash == token_hash)
                )
            ).one()
        return row.account_id, row.app_id, row.expires_at

    async def branding(self, account_id: str) -> Branding | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(account_branding).where(account_branding.c.account_id == account_id)
                )
            ).first()
        if row is None:
            return None
        return Branding(
            account_id=row.account_id,
            name=row.name,
            logo_url=row.logo_url,
            accent_color=row.accent_color,
            updated_at=row.updated_at,
        )

    async def set_branding(self, branding: Branding) -> None:
        values = {
            "name": branding.name,
            "logo_url": branding.logo_url,
            "accent_color": branding.accent_color,
            "updated_at": branding.updated_at,
        }
        async with self.db.write() as conn:
            done = await conn.execute(
                account_branding.update()
                .where(account_branding.c.account_id == branding.account_id)
                .values(**values)
            )
            if done.rowcount == 0:
                await conn.execute(
                    account_branding.insert().values(account_id=branding.account_id, **values)
                )
