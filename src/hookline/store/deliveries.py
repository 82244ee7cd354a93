"""Deliveries and their attempts: claiming under a lease, recording, releasing."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hookline.domain import operational
from hookline.domain.dispatch import Outcome
from hookline.domain.models import (
    Attempt,
    Delivery,
    DeliveryMode,
    DeliveryStatus,
    Dispatch,
    Endpoint,
    EndpointStatus,
    Page,
    Trigger,
)
from hookline.store.control import Claimed, Control, apply_outcomes, claim_controlled
from hookline.store.database import Database
from hookline.store.endpoints import endpoint_from_row
from hookline.store.fanout import publish_operational
from hookline.store.leases import Leases
from hookline.store.messages import message_from_row
from hookline.store.pagination import fetch_page
from hookline.store.recording import (
    MOVE,
    attempt_rows,
    disable,
    insert_missing_bodies,
    move_values,
)
from hookline.store.tables import attempts, deliveries, endpoints, messages

PENDING = DeliveryStatus.PENDING.value
SENDING = DeliveryStatus.SENDING.value


def delivery_from_row(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        message_id=row.message_id,
        endpoint_id=row.endpoint_id,
        account_id=row.account_id,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        trigger=Trigger(row.trigger),
        last_attempt_at=row.last_attempt_at,
        last_status_code=row.last_status_code,
        created_at=row.created_at,
        updated_at=row.updated_at,
        event_type=row.event_type,
        test=row.test,
    )


def attempt_from_row(row: Any) -> Attempt:
    return Attempt(
        id=row.id,
        delivery_id=row.delivery_id,
        endpoint_id=row.endpoint_id,
        message_id=row.message_id,
        created_at=row.created_at,
        trigger=Trigger(row.trigger),
        status_code=row.status_code,
        response_body=row.response_body,
        duration_ms=row.duration_ms,
        error=row.error,
        error_detail=row.error_detail,
    )


_ENDPOINT_COLUMNS = [c.label(f"ep_{c.name}") for c in endpoints.c]
# Built once, so SQLAlchemy keeps its cache key: every recorded outcome goes through it.
_INSERT_ATTEMPTS = attempts.insert()
# What a claim reads of the deliveries it leased.
_CLAIMED_ROWS = (
    sa.select(
        deliveries.c.id,
        deliveries.c.attempts,
        deliveries.c.trigger,
        deliveries.c.test,
        messages,
        *_ENDPOINT_COLUMNS,
    )
    .join(messages, messages.c.id == deliveries.c.message_id)
    .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
    .where(deliveries.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(deliveries.c.next_attempt_at)
)


@functools.cache
def _lease(*, listen: bool, excluding: bool, skip_locked: bool) -> Any:
    """The UPDATE that leases due deliveries (``claim_due``), built once per shape."""
    due = (
        sa.select(deliveries.c.id)
        .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
        .where(
            deliveries.c.status == PENDING,
            deliveries.c.next_attempt_at <= sa.bindparam("b_now"),
            endpoints.c.status == EndpointStatus.ACTIVE.value,
        )
        .order_by(deliveries.c.next_attempt_at)
    )
    if listen:
        due = due.where(
            deliveries.c.endpoint_id == sa.bindparam("b_endpoint_id"),
            endpoints.c.mode == DeliveryMode.LISTEN.value,
        )
    else:
        # Rate-limited, FIFO, paused and circuit-broken webhooks: claimed apart.
        due = due.where(
            endpoints.c.mode == DeliveryMode.PUSH.value, endpoints.c.controlled.is_(False)
        )
    if excluding:
        due = due.where(deliveries.c.endpoint_id.not_in(sa.bindparam("b_excluded", expanding=True)))
    if skip_locked:
        due = due.with_for_update(skip_locked=True, of=deliveries)
    return (
        deliveries.update()
        .where(
            deliveries.c.id.in_(
                due.limit(sa.bindparam("b_limit", type_=sa.Integer())).scalar_subquery()
            )
        )
        .values(
            status=SENDING,
            lease_owner=sa.bindparam("b_owner"),
            lease_expires_at=sa.bindparam("b_lease_until"),
        )
        .returning(deliveries.c.id)
    )


class DeliveryRepository(Leases):
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the worker's side -------------------------------------------------------------

    async def claim_due(
        self,
        owner: str,
        *,
        now: datetime,
        lease_until: datetime,
        limit: int,
        exclude_endpoints: Collection[str] = (),
        endpoint_id: str | None = None,
        controlled: bool = True,
    ) -> Claim:
        """Lease up to ``limit`` due deliveries of active endpoints, oldest first: of
        push endpoints (the worker's claim), or of the one listen endpoint named.
        ``controlled=False`` leaves the controlled webhooks (rate limits, FIFO, pauses,
        circuits) out of this round: the worker passes it until ``next_look`` of the
        last round that looked at them.

        PostgreSQL skips rows other workers hold (``FOR UPDATE SKIP LOCKED``); SQLite's
        single writer makes the ``UPDATE … WHERE id IN (SELECT …)`` atomic as it is.
        """
        async with self.db.write() as conn:
            held = Claimed()
            if endpoint_id is None and controlled:
                held = await claim_controlled(
                    conn,
                    is_sqlite=self.db.is_sqlite,
                    owner=owner,
                    now=now,
                    lease_until=lease_until,
                    limit=limit,
                    exclude_endpoints=exclude_endpoints,
                )
            ids = held.ids
            if len(ids) < limit:
                lease = _lease(
                    listen=endpoint_id is not None,
                    excluding=bool(exclude_endpoints),
                    skip_locked=not self.db.is_sqlite,
                )
                params: dict[str, Any] = {
                    "b_now": now,
                    "b_limit": limit - len(ids),
                    "b_owner": owner,
                    "b_lease_until": lease_until,
                }
                if endpoint_id is not None:
                    params["b_endpoint_id"] = endpoint_id
                if exclude_endpoints:
                    params["b_excluded"] = list(exclude_endpoints)
                ids += (await conn.execute(lease, params)).scalars().all()
            if not ids:
                return Claim([], held.next_look)
            rows = await conn.execute(_CLAIMED_ROWS, {"ids": ids})
            probes = held.probes
            # One Endpoint per webhook in the claim: its rows all read the same values.
            seen: dict[str, Endpoint] = {}
            return Claim(
                [_dispatch(r, seen, probe=bool(probes) and r.id in probes) for r in rows],
                held.next_look,
            )

    async def record(
        self,
        outcomes: Sequence[Outcome],
        *,
        owner: str,
        now: datetime,
        disable_failing_since: datetime | None,
        failing_after: int = 0,
        new_id: Callable[[str], str] | None = None,
        control: Control | None = None,
        maybe_failing: Collection[str] | None = None,
    ) -> int:
        """Log each attempt (with the exact request), move each delivery on, keep
        endpoint health, and publish the operational events these changes raise, in one
        transaction. A delivery whose lease this worker no longer holds keeps its state
        (another worker owns it now) and raises nothing; its attempt is still logged.

        ``maybe_failing`` limits the webhooks a success may clear the failing state of
        to those that may have one (None: any); the others are not written to at all.

        Returns how many operational deliveries became due (to wake workers)."""
        if not outcomes:
            return 0
        succeeded: set[str] = set()
        failed_attempt: set[str] = set()
        exhausted: dict[str, int] = {}
        gone: set[str] = set()
        for o in outcomes:
            if o.result.succeeded:
                if maybe_failing is None or o.endpoint_id in maybe_failing:
                    succeeded.add(o.endpoint_id)
            else:
                failed_attempt.add(o.endpoint_id)
            if o.decision.status is DeliveryStatus.FAILED:
                exhausted[o.endpoint_id] = exhausted.get(o.endpoint_id, 0) + 1
            if o.decision.disable_reason == "gone":
                gone.add(o.endpoint_id)
        raised = {
            o.delivery_id: e
            for o in outcomes
            if new_id is not None
            and (e := operational.for_outcome(o, failing_after=failing_after)) is not None
        }
        attempt_list, bodies = attempt_rows(outcomes, now)

        async with self.db.write() as conn:
            if bodies:
                await conn.execute(insert_missing_bodies(self.db.is_sqlite), bodies)
            await conn.execute(_INSERT_ATTEMPTS, attempt_list)
            moved = [move_values(o, owner, now) for o in outcomes if o.delivery_id not in raised]
            if moved:
                await conn.execute(MOVE, moved)
            announce: list[operational.OperationalEvent] = []
            # The few outcomes that raise an event are moved one by one, so that an
            # event is published only when this worker's state change took effect.
            for o in outcomes:
                if o.delivery_id in raised:
                    done = await conn.execute(
                        MOVE.returning(deliveries.c.id), move_values(o, owner, now)
                    )
                    if done.first() is not None:
                        announce.append(raised[o.delivery_id])
            if failed_attempt:
                await conn.execute(
                    endpoints.update()
                    .where(
                        endpoints.c.id.in_(failed_attempt), endpoints.c.first_failure_at.is_(None)
                    )
                    .values(first_failure_at=now)
                )
            for endpoint_id, count in exhausted.items():
                await conn.execute(
                    endpoints.update()
                    .where(endpoints.c.id == endpoint_id)
                    .values(failure_count=endpoints.c.failure_count + count, last_failure_at=now)
                )
            if succeeded:
                await conn.execute(
                    endpoints.update()
                    .where(endpoints.c.id.in_(succeeded), endpoints.c.first_failure_at.is_not(None))
                    .values(first_failure_at=None)
                )
            if control:
                announce += await apply_outcomes(
                    conn,
                    now=now,
                    pauses=control.pauses,
                    probes=control.probes,
                    trips=control.trips,
                    cooldown=control.cooldown,
                )
            if gone:
                announce += await disable(conn, gone, "gone", now)
            if exhausted and disable_failing_since is not None:
                announce += await disable(
                    conn,
                    set(exhausted) - {o.endpoint_id for o in outcomes if o.result.succeeded},
                    "failing",
                    now,
                    extra=endpoints.c.first_failure_at <= disable_failing_since,
                )
            if not announce or new_id is None:
                return 0
            return await publish_operational(conn, announce, now=now, new_id=new_id)

    # -- the API's side ----------------------------------------------------------------

    async def get(self, account_id: str, delivery_id: str) -> Delivery | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(deliveries).where(
                        deliveries.c.id == delivery_id, deliveries.c.account_id == account_id
                    )
                )
            ).first()
        return delivery_from_row(row) if row else None

    async def list_for_endpoint(
        self,
        account_id: str,
        endpoint_id: str,
        *,
        status: DeliveryStatus | None,
        cursor: str | None,
        limit: int,
    ) -> Page[Delivery]:
        stmt = sa.select(deliveries).where(
            deliveries.c.account_id == account_id, deliveries.c.endpoint_id == endpoint_id
        )
        if status is not None:
            stmt = stmt.where(deliveries.c.status == status.value)
        async with self.db.read() as conn:
            return await fetch_page(
                conn, stmt, deliveries.c.id, cursor=cursor, limit=limit, convert=delivery_from_row
            )

    async def list_for_message(self, account_id: str, message_id: str) -> list[Delivery]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(deliveries)
                .where(deliveries.c.account_id == account_id, deliveries.c.message_id == message_id)
                .order_by(deliveries.c.id)
            )
            return [delivery_from_row(r) for r in rows]

    async def attempts_for(self, delivery_ids: Collection[str]) -> dict[str, list[Attempt]]:
        """Attempts of these deliveries, oldest first, keyed by delivery."""
        found: dict[str, list[Attempt]] = {d: [] for d in delivery_ids}
        if not delivery_ids:
            return found
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(attempts)
                .where(attempts.c.delivery_id.in_(list(delivery_ids)))
                .order_by(attempts.c.id)
            )
            for r in rows:
                found[r.delivery_id].append(attempt_from_row(r))
        return found

    async def schedule_manual(
        self, account_id: str, delivery_id: str, now: datetime
    ) -> tuple[bool, Delivery] | None:
        """Make a finished delivery due now as a single manual attempt. Returns whether
        it changed (it must have been finished) and the delivery as it is afterwards."""
        finished = (
            DeliveryStatus.FAILED.value,
            DeliveryStatus.SUCCEEDED.value,
            DeliveryStatus.CANCELLED.value,
        )
        async with self.db.write() as conn:
            changed = await conn.execute(
                deliveries.update()
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.account_id == account_id,
                    deliveries.c.status.in_(finished),
                )
                .values(
                    status=PENDING,
                    next_attempt_at=now,
                    trigger=Trigger.MANUAL.value,
                    updated_at=now,
                )
            )
            row = (
                await conn.execute(
                    sa.select(deliveries).where(
                        deliveries.c.id == delivery_id, deliveries.c.account_id == account_id
                    )
                )
            ).first()
        return (changed.rowcount == 1, delivery_from_row(row)) if row else None


@dataclass(frozen=True, slots=True)
class Claim:
    """What one claim leased, and when the controlled webhooks may next have something
    to claim (``Claimed.next_look``; None also when this claim did not look at them)."""

    dispatches: list[Dispatch]
    next_look: datetime | None = None

    def __len__(self) -> int:
        return len(self.dispatches)

    def __iter__(self) -> Iterator[Dispatch]:
        return iter(self.dispatches)


def _dispatch(row: Any, seen: dict[str, Endpoint], *, probe: bool = False) -> Dispatch:
    m = row._mapping
    endpoint = seen.get(row.ep_id)
    if endpoint is None:
        endpoint = seen[row.ep_id] = endpoint_from_row(row, prefix="ep_")
    return Dispatch(
        probe=probe,
        delivery_id=m[deliveries.c.id],
        attempts=m[deliveries.c.attempts],
        trigger=Trigger(m[deliveries.c.trigger]),
        test=bool(m[deliveries.c.test]),
        message=message_from_row(_MessageView(m)),
        endpoint=endpoint,
    )


class _MessageView:
    """Attribute access to the message columns of a joined row."""

    def __init__(self, mapping: Any) -> None:
        self._m = mapping

    def __getattr__(self, name: str) -> Any:
        return self._m[messages.c[name]]
