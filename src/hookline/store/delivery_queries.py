"""Reading deliveries across an account: search, per-webhook statistics, one attempt
with the exact request it sent. Every query here runs on an index ending in ``id``
(docs/design.md lists the plans)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hookline.domain.ids import lowest_id
from hookline.domain.models import Attempt, Delivery, DeliveryStatus, Page, SentRequest
from hookline.domain.search import DeliveryFilter, WebhookStats, percentile, time_ms
from hookline.store.control import fifo_head
from hookline.store.database import Database
from hookline.store.deliveries import attempt_from_row, delivery_from_row
from hookline.store.pagination import fetch_page
from hookline.store.tables import attempts, deliveries, endpoints, request_bodies


def filtered(account_id: str, f: DeliveryFilter) -> list[sa.ColumnElement[bool]]:
    """The WHERE terms of a delivery filter (the same for searches and bulk re-queues)."""
    terms: list[sa.ColumnElement[bool]] = [deliveries.c.account_id == account_id]
    if f.statuses:
        terms.append(deliveries.c.status.in_([s.value for s in f.statuses]))
    if f.webhook_id is not None:
        terms.append(deliveries.c.endpoint_id == f.webhook_id)
    if f.event_type is not None:
        terms.append(deliveries.c.event_type == f.event_type)
    if f.event_id is not None:
        terms.append(deliveries.c.message_id == f.event_id)
    if f.app_id is not None:
        terms.append(deliveries.c.endpoint_id.in_(_app_endpoints(f.app_id)))
    if (low := f.min_id) is not None:
        terms.append(deliveries.c.id >= low)
    if (high := f.below_id) is not None:
        terms.append(deliveries.c.id < high)
    return terms


def _app_endpoints(app_id: str) -> sa.Select[tuple[str]]:
    return sa.select(endpoints.c.id).where(endpoints.c.app_id == app_id)


class DeliveryQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def search(
        self, account_id: str, f: DeliveryFilter, *, cursor: str | None, limit: int
    ) -> Page[Delivery]:
        stmt = sa.select(deliveries).where(*filtered(account_id, f))
        async with self.db.read() as conn:
            return await fetch_page(
                conn, stmt, deliveries.c.id, cursor=cursor, limit=limit, convert=delivery_from_row
            )

    async def count(self, account_id: str, f: DeliveryFilter) -> int:
        async with self.db.read() as conn:
            n = await conn.execute(
                sa.select(sa.func.count()).select_from(deliveries).where(*filtered(account_id, f))
            )
            return int(n.scalar_one())

    async def attempts_page(
        self,
        account_id: str,
        *,
        endpoint_id: str | None,
        message_id: str | None,
        succeeded: bool | None,
        cursor: str | None,
        limit: int,
    ) -> Page[Attempt]:
        """Attempts of the account, newest first, of one endpoint and/or one message;
        only those answered 2xx (``succeeded``) or only the others."""
        stmt = (
            sa.select(attempts)
            .join(deliveries, deliveries.c.id == attempts.c.delivery_id)
            .where(deliveries.c.account_id == account_id)
        )
        if endpoint_id is not None:
            stmt = stmt.where(attempts.c.endpoint_id == endpoint_id)
        if message_id is not None:
            stmt = stmt.where(attempts.c.message_id == message_id)
        ok = attempts.c.status_code.between(200, 299)
        if succeeded is True:
            stmt = stmt.where(ok)
        elif succeeded is False:
            stmt = stmt.where(sa.or_(attempts.c.status_code.is_(None), sa.not_(ok)))
        async with self.db.read() as conn:
            return await fetch_page(
                conn, stmt, attempts.c.id, cursor=cursor, limit=limit, convert=attempt_from_row
            )

    async def stats(self, account_id: str, f: DeliveryFilter) -> WebhookStats:
        """Deliveries of one webhook by status, and its attempts' response times, within
        the filter's window."""
        assert f.webhook_id is not None
        # Response times: attempts that got a response, made since (ids carry their time).
        timed = [attempts.c.endpoint_id == f.webhook_id, attempts.c.status_code.is_not(None)]
        if f.since is not None:
            timed.append(attempts.c.id >= lowest_id("atmpt", time_ms(f.since)))
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(deliveries.c.status, sa.func.count())
                .where(*filtered(account_id, f))
                .group_by(deliveries.c.status)
            )
            counts = {str(status): int(n) for status, n in rows}
            n = int(
                (
                    await conn.execute(
                        sa.select(sa.func.count()).select_from(attempts).where(*timed)
                    )
                ).scalar_one()
            )
            ranks: list[int | None] = []
            for fraction in (0.5, 0.95):
                if n == 0:
                    ranks.append(None)
                    continue
                value = await conn.execute(
                    sa.select(attempts.c.duration_ms)
                    .where(*timed)
                    .order_by(attempts.c.duration_ms)
                    .offset(percentile(n, fraction))
                    .limit(1)
                )
                ranks.append(int(value.scalar_one()))
        return WebhookStats(counts=counts, attempts=n, p50_ms=ranks[0], p95_ms=ranks[1])

    async def cancel(
        self, account_id: str, delivery_id: str, now: datetime
    ) -> tuple[bool, Delivery] | None:
        """Cancel a delivery still waiting (pending or held): final, never sent. Returns
        whether it changed and the delivery as it is afterwards (None: no such one)."""
        waiting = (DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value)
        mine = (deliveries.c.id == delivery_id, deliveries.c.account_id == account_id)
        async with self.db.write() as conn:
            changed = await conn.execute(
                deliveries.update()
                .where(*mine, deliveries.c.status.in_(waiting))
                .values(status=DeliveryStatus.CANCELLED.value, next_attempt_at=None, updated_at=now)
            )
            row = (await conn.execute(sa.select(deliveries).where(*mine))).first()
        return (changed.rowcount == 1, delivery_from_row(row)) if row else None

    async def head_of_line(self, endpoint_id: str) -> Delivery | None:
        """The delivery a FIFO webhook's others wait for (see ``store/control.py``)."""
        async with self.db.read() as conn:
            row = await fifo_head(conn, endpoint_id)
        return delivery_from_row(row) if row is not None else None

    async def attempt(self, account_id: str, attempt_id: str) -> tuple[Attempt, str] | None:
        """One attempt of this account, with its request body; and its delivery's
        endpoint id."""
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(attempts, request_bodies.c.body.label("request_body"))
                    .join(deliveries, deliveries.c.id == attempts.c.delivery_id)
                    .outerjoin(
                        request_bodies, request_bodies.c.sha256 == attempts.c.request_body_sha256
                    )
                    .where(attempts.c.id == attempt_id, deliveries.c.account_id == account_id)
                )
            ).first()
        if row is None:
            return None
        return _with_request(row), row.endpoint_id

    async def newest_attempt_id(
        self, account_id: str, *, app_id: str | None = None, endpoint_id: str | None = None
    ) -> str | None:
        """The id of the newest attempt to the account's webhooks (of one application, or
        one webhook): one lookup on ``(endpoint_id, id)`` per webhook, however many
        attempts the account or the whole table holds."""
        newest = (
            sa.select(attempts.c.id)
            .where(attempts.c.endpoint_id == endpoints.c.id)
            .order_by(attempts.c.id.desc())
            .limit(1)
            .correlate(endpoints)
            .scalar_subquery()
        )
        stmt = sa.select(sa.func.max(newest)).where(endpoints.c.account_id == account_id)
        if app_id is not None:
            stmt = stmt.where(endpoints.c.app_id == app_id)
        if endpoint_id is not None:
            stmt = stmt.where(endpoints.c.id == endpoint_id)
        async with self.db.read() as conn:
            found = (await conn.execute(stmt)).scalar_one_or_none()
        return str(found) if found is not None else None

    async def finished_per_minute(
        self, account_id: str, since: datetime, app_id: str | None = None
    ) -> dict[tuple[datetime, str], int]:
        """How many of the account's deliveries succeeded and failed for good in each
        minute since ``since``, keyed by (minute, status); minutes with none are absent."""
        if self.db.is_sqlite:
            minute: sa.ColumnElement[Any] = sa.func.strftime(
                "%Y-%m-%d %H:%M", deliveries.c.updated_at
            )
        else:
            minute = sa.func.date_trunc("minute", deliveries.c.updated_at)
        terms = [
            deliveries.c.status.in_([DeliveryStatus.SUCCEEDED.value, DeliveryStatus.FAILED.value]),
            deliveries.c.updated_at >= since,
            deliveries.c.account_id == account_id,
        ]
        if app_id is not None:
            terms.append(deliveries.c.endpoint_id.in_(_app_endpoints(app_id)))
        stmt = (
            sa.select(minute.label("minute"), deliveries.c.status, sa.func.count())
            .where(*terms)
            .group_by(minute, deliveries.c.status)
        )
        out: dict[tuple[datetime, str], int] = {}
        async with self.db.read() as conn:
            for at, status, n in await conn.execute(stmt):
                if isinstance(at, str):
                    at = datetime.strptime(at, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
                else:
                    at = at.astimezone(UTC)
                out[(at, str(status))] = int(n)
        return out


def _with_request(row: Any) -> Attempt:
    a = attempt_from_row(row)
    request = None
    if row.request_method is not None and row.request_body is not None:
        request = SentRequest(
            method=row.request_method,
            url=row.request_url,
            headers=tuple((k, v) for k, v in row.request_headers),
            body=bytes(row.request_body),
        )
    response_headers = (
        tuple((k, v) for k, v in row.response_headers) if row.response_headers else None
    )
    return Attempt(
        id=a.id,
        delivery_id=a.delivery_id,
        endpoint_id=a.endpoint_id,
        message_id=a.message_id,
        created_at=a.created_at,
        trigger=a.trigger,
        status_code=a.status_code,
        response_body=a.response_body,
        duration_ms=a.duration_ms,
        error=a.error,
        error_detail=a.error_detail,
        request=request,
        response_headers=response_headers,
    )
