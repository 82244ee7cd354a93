"""Endpoints (the native API calls them webhooks)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hookline.domain.models import (
    Circuit,
    DeliveryMode,
    DeliveryStatus,
    Endpoint,
    EndpointStatus,
    Ordering,
    Page,
    PayloadFormat,
)
from hookline.domain.operational import OperationalEvent
from hookline.domain.signing import Scheme
from hookline.store.accounts import DEFAULT_APP_UID
from hookline.store.applications import UidTaken
from hookline.store.database import Database
from hookline.store.fanout import publish_operational
from hookline.store.pagination import fetch_page
from hookline.store.tables import applications, deliveries, endpoints


def endpoint_from_row(row: Any, prefix: str = "") -> Endpoint:
    """Build an Endpoint from a row whose endpoint columns may carry a label prefix."""
    m = row._mapping

    def col(name: str) -> Any:
        return m[prefix + name]

    event_types = col("event_types")
    rules = col("rules")
    channels = col("channels")
    return Endpoint(
        id=col("id"),
        account_id=col("account_id"),
        app_id=col("app_id"),
        url=col("url"),
        description=col("description"),
        event_types=tuple(event_types) if event_types is not None else None,
        secret=col("secret"),
        previous_secret=col("previous_secret"),
        previous_secret_expires_at=col("previous_secret_expires_at"),
        scheme=Scheme(col("signature_scheme")),
        signature_header=col("signature_header"),
        retry_policy=col("retry_policy"),
        headers=dict(col("headers") or {}),
        status=EndpointStatus(col("status")),
        disabled_reason=col("disabled_reason"),
        failure_count=col("failure_count"),
        first_failure_at=col("first_failure_at"),
        last_failure_at=col("last_failure_at"),
        created_at=col("created_at"),
        updated_at=col("updated_at"),
        send_traceparent=bool(col("send_traceparent")),
        secret_headers=tuple(col("secret_headers") or ()),
        rules=tuple(rules) if rules is not None else None,
        mode=DeliveryMode(col("mode")),
        rate_limit=col("rate_limit"),
        ordering=Ordering(col("ordering")),
        timeout=col("timeout"),
        circuit=Circuit(col("circuit")),
        payload_format=PayloadFormat(col("payload_format")),
        uid=col("uid"),
        metadata=dict(col("metadata") or {}),
        channels=tuple(channels) if channels is not None else None,
    )


def needs_control(ep: Endpoint) -> bool:
    """Whether this webhook's settings alone put it on the claim's controlled path."""
    return ep.rate_limit is not None or ep.ordering is Ordering.FIFO


def endpoint_values(ep: Endpoint) -> dict[str, Any]:
    return {
        "id": ep.id,
        "account_id": ep.account_id,
        "app_id": ep.app_id,
        "url": ep.url,
        "description": ep.description,
        "event_types": list(ep.event_types) if ep.event_types is not None else None,
        "secret": ep.secret,
        "previous_secret": ep.previous_secret,
        "previous_secret_expires_at": ep.previous_secret_expires_at,
        "signature_scheme": ep.scheme.value,
        "signature_header": ep.signature_header,
        "retry_policy": ep.retry_policy,
        "headers": ep.headers,
        "status": ep.status.value,
        "disabled_reason": ep.disabled_reason,
        "failure_count": ep.failure_count,
        "first_failure_at": ep.first_failure_at,
        "last_failure_at": ep.last_failure_at,
        "created_at": ep.created_at,
        "updated_at": ep.updated_at,
        "send_traceparent": ep.send_traceparent,
        "secret_headers": list(ep.secret_headers) or None,
        "rules": list(ep.rules) if ep.rules is not None else None,
        "mode": ep.mode.value,
        "rate_limit": ep.rate_limit,
        "ordering": ep.ordering.value,
        "timeout": ep.timeout,
        "circuit": ep.circuit.value,
        "controlled": needs_control(ep) or ep.circuit is not Circuit.CLOSED,
        "payload_format": ep.payload_format.value,
        "uid": ep.uid,
        "metadata": ep.metadata or None,
        "channels": list(ep.channels) if ep.channels is not None else None,
    }


class EndpointRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, endpoint: Endpoint) -> None:
        try:
            async with self.db.write() as conn:
                await conn.execute(endpoints.insert().values(**endpoint_values(endpoint)))
        except sa.exc.IntegrityError:
            raise UidTaken from None

    async def get(self, account_id: str, endpoint_id: str) -> Endpoint | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(endpoints).where(
                        endpoints.c.id == endpoint_id, endpoints.c.account_id == account_id
                    )
                )
            ).first()
        return endpoint_from_row(row) if row else None

    async def list_page(
        self,
        account_id: str,
        *,
        cursor: str | None,
        limit: int,
        include_deleted: bool,
        app_id: str | None = None,
    ) -> Page[Endpoint]:
        # One application's; the default one unless named. The gateway keeps
        # call-result endpoints in an application of its own, never listed here.
        apps: Any = sa.select(applications.c.id).where(
            applications.c.account_id == account_id, applications.c.uid == DEFAULT_APP_UID
        )
        if app_id is not None:
            apps = [app_id]
        stmt = sa.select(endpoints).where(
            endpoints.c.account_id == account_id, endpoints.c.app_id.in_(apps)
        )
        if not include_deleted:
            stmt = stmt.where(endpoints.c.status != EndpointStatus.DELETED.value)
        async with self.db.read() as conn:
            return await fetch_page(
                conn,
                stmt,
                endpoints.c.id,
                cursor=cursor,
                limit=limit,
                convert=endpoint_from_row,
            )

    async def replace(
        self,
        endpoint: Endpoint,
        *,
        announce: Sequence[OperationalEvent] = (),
        new_id: Callable[[str], str] | None = None,
    ) -> int:
        """Write every mutable field of an endpoint read earlier, and publish the
        operational events this change raises in the same transaction. Returns how many
        of their deliveries are due now."""
        values = endpoint_values(endpoint)
        # The circuit and the send schedule belong to the workers: never written back
        # from an earlier read, and they keep a webhook on the controlled path.
        for fixed in ("id", "account_id", "app_id", "created_at", "circuit"):
            values.pop(fixed)
        if not needs_control(endpoint):
            values["controlled"] = sa.or_(
                endpoints.c.circuit != Circuit.CLOSED.value, endpoints.c.send_after.is_not(None)
            )
        try:
            async with self.db.write() as conn:
                await conn.execute(
                    endpoints.update()
                    .where(
                        endpoints.c.id == endpoint.id,
                        endpoints.c.account_id == endpoint.account_id,
                    )
                    .values(**values)
                )
                if announce and new_id is not None:
                    return await publish_operational(
                        conn, announce, now=endpoint.updated_at, new_id=new_id
                    )
        except sa.exc.IntegrityError:
            raise UidTaken from None
        return 0

    async def find_by_uid(self, account_id: str, app_id: str, uid: str) -> Endpoint | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(endpoints).where(
                        endpoints.c.account_id == account_id,
                        endpoints.c.app_id == app_id,
                        endpoints.c.uid == uid,
                    )
                )
            ).first()
        return endpoint_from_row(row) if row else None

    async def rules_of(self, endpoint_ids: list[str]) -> dict[str, tuple[datetime, Any]]:
        """The rule documents of these endpoints, with the ``updated_at`` they go with."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(endpoints.c.id, endpoints.c.updated_at, endpoints.c.rules).where(
                    endpoints.c.id.in_(endpoint_ids)
                )
            )
            return {r.id: (r.updated_at, r.rules) for r in rows}

    async def delete(self, account_id: str, endpoint_id: str, now: datetime) -> None:
        """Soft delete, and cancel whatever was still waiting (or held) to be sent to it."""
        async with self.db.write() as conn:
            await conn.execute(
                endpoints.update()
                .where(endpoints.c.id == endpoint_id, endpoints.c.account_id == account_id)
                # A deleted webhook gives up its uid, so it can name a new one.
                .values(status=EndpointStatus.DELETED.value, uid=None, updated_at=now)
            )
            await conn.execute(
                deliveries.update()
                .where(
                    deliveries.c.endpoint_id == endpoint_id,
                    deliveries.c.status.in_(
                        [DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value]
                    ),
                )
                .values(status=DeliveryStatus.CANCELLED.value, next_attempt_at=None, updated_at=now)
            )
