"""Applications: an account's groups of endpoints, addressed by id or by uid."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hookline.domain.models import Application, DeliveryStatus, EndpointStatus, Page
from hookline.store.database import Database
from hookline.store.gateway_endpoints import GATEWAY_APP_UID
from hookline.store.pagination import fetch_page
from hookline.store.tables import applications, deliveries, endpoints


class UidTaken(Exception):
    """Another live application of the account has this uid."""


def _application(row: sa.Row[Any]) -> Application:
    return Application(
        id=row.id,
        account_id=row.account_id,
        uid=row.uid,
        name=row.name,
        metadata=dict(row._mapping["metadata"] or {}),
        rate_limit=row.rate_limit,
        created_at=row.created_at,
        updated_at=row.updated_at or row.created_at,
    )


def _visible(account_id: str) -> sa.ColumnElement[bool]:
    # The gateway's own application holds call-result endpoints: never shown here.
    return sa.and_(
        applications.c.account_id == account_id,
        applications.c.deleted_at.is_(None),
        sa.or_(applications.c.uid.is_(None), applications.c.uid != GATEWAY_APP_UID),
    )


class ApplicationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, app: Application) -> None:
        try:
            async with self.db.write() as conn:
                await conn.execute(
                    applications.insert().values(
                        id=app.id,
                        account_id=app.account_id,
                        uid=app.uid,
                        name=app.name,
                        metadata=app.metadata or None,
                        rate_limit=app.rate_limit,
                        created_at=app.created_at,
                        updated_at=app.updated_at,
                    )
                )
        except sa.exc.IntegrityError:
            raise UidTaken from None

    async def find(self, account_id: str, id_or_uid: str) -> Application | None:
        """The live application with this id, or else with this uid."""
        async with self.db.read() as conn:
            for column in (applications.c.id, applications.c.uid):
                row = (
                    await conn.execute(
                        sa.select(applications).where(_visible(account_id), column == id_or_uid)
                    )
                ).first()
                if row is not None:
                    return _application(row)
        return None

    async def list_page(
        self, account_id: str, *, cursor: str | None, limit: int
    ) -> Page[Application]:
        async with self.db.read() as conn:
            return await fetch_page(
                conn,
                sa.select(applications).where(_visible(account_id)),
                applications.c.id,
                cursor=cursor,
                limit=limit,
                convert=_application,
            )

    async def replace(self, app: Application) -> None:
        try:
            async with self.db.write() as conn:
                await conn.execute(
                    applications.update()
                    .where(applications.c.id == app.id, applications.c.account_id == app.account_id)
                    .values(
                        uid=app.uid,
                        name=app.name,
                        metadata=app.metadata or None,
                        rate_limit=app.rate_limit,
                        updated_at=app.updated_at,
                    )
                )
        except sa.exc.IntegrityError:
            raise UidTaken from None

    async def delete(self, account_id: str, app_id: str, now: datetime) -> None:
        """Delete the application and its webhooks (whose queued deliveries are
        cancelled) in one transaction; rows stay for the history that refers to them."""
        async with self.db.write() as conn:
            await conn.execute(
                applications.update()
                .where(applications.c.id == app_id, applications.c.account_id == account_id)
                .values(uid=None, deleted_at=now, updated_at=now)
            )
            owned = sa.select(endpoints.c.id).where(
                endpoints.c.app_id == app_id, endpoints.c.account_id == account_id
            )
            await conn.execute(
                deliveries.update()
                .where(
                    deliveries.c.endpoint_id.in_(owned),
                    deliveries.c.status.in_(
                        [DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value]
                    ),
                )
                .values(status=DeliveryStatus.CANCELLED.value, next_attempt_at=None, updated_at=now)
            )
            await conn.execute(
                endpoints.update()
                .where(
                    endpoints.c.app_id == app_id,
                    endpoints.c.status != EndpointStatus.DELETED.value,
                )
                .values(status=EndpointStatus.DELETED.value, uid=None, updated_at=now)
            )
