"""Bulk re-queues (recover, bulk retry) as durable background jobs.

A job records its filter when the API accepts it; a runner then moves the matching
deliveries back to ``pending`` in chunks, walking them by id. Each chunk is one
transaction that also advances the job's cursor, so a runner that dies resumes where the
last commit left off, and nothing is queued twice by the same job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hookline.domain.models import DeliveryStatus, EndpointStatus, Trigger
from hookline.domain.search import DeliveryFilter, RequeueJob
from hookline.store.database import Database
from hookline.store.delivery_queries import filtered
from hookline.store.tables import deliveries, endpoints, requeue_jobs

QUEUED = "queued"
RUNNING = "running"
DONE = "done"


def job_from_row(row: Any) -> RequeueJob:
    return RequeueJob(
        id=row.id,
        account_id=row.account_id,
        filter=DeliveryFilter.from_document(row.filters),
        expected=row.expected,
        queued=row.queued,
        last_id=row.last_id,
        status=row.status,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


def _matching(account_id: str, f: DeliveryFilter) -> list[sa.ColumnElement[bool]]:
    # Only deliveries of active webhooks: a disabled one would hold them again anyway.
    active = sa.select(endpoints.c.id).where(
        endpoints.c.account_id == account_id,
        endpoints.c.status == EndpointStatus.ACTIVE.value,
    )
    return [*filtered(account_id, f), deliveries.c.endpoint_id.in_(active)]


class RequeueRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, job_id: str, account_id: str, f: DeliveryFilter, now: datetime
    ) -> RequeueJob:
        """Count what the filter matches now and record the job, in one transaction."""
        async with self.db.write() as conn:
            expected = int(
                (
                    await conn.execute(
                        sa.select(sa.func.count())
                        .select_from(deliveries)
                        .where(*_matching(account_id, f))
                    )
                ).scalar_one()
            )
            values = {
                "id": job_id,
                "account_id": account_id,
                "filters": f.to_document(),
                "expected": expected,
                "queued": 0,
                "last_id": None,
                "status": QUEUED if expected else DONE,
                "lease_owner": None,
                "lease_expires_at": None,
                "created_at": now,
                "updated_at": now,
                "finished_at": None if expected else now,
            }
            await conn.execute(requeue_jobs.insert().values(**values))
        return job_from_row(_Row(values))

    async def get(self, account_id: str, job_id: str) -> RequeueJob | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(requeue_jobs).where(
                        requeue_jobs.c.id == job_id, requeue_jobs.c.account_id == account_id
                    )
                )
            ).first()
        return job_from_row(row) if row else None

    async def claim(self, owner: str, now: datetime, lease_until: datetime) -> RequeueJob | None:
        """Take the oldest unfinished job nobody holds (or whose holder's lease ran out)."""
        free = (
            sa.select(requeue_jobs.c.id)
            .where(
                requeue_jobs.c.status.in_([QUEUED, RUNNING]),
                sa.or_(
                    requeue_jobs.c.lease_expires_at.is_(None),
                    requeue_jobs.c.lease_expires_at <= now,
                ),
            )
            .order_by(requeue_jobs.c.id)
            .limit(1)
        )
        if not self.db.is_sqlite:
            free = free.with_for_update(skip_locked=True)
        async with self.db.write() as conn:
            row = (
                await conn.execute(
                    requeue_jobs.update()
                    .where(requeue_jobs.c.id.in_(free.scalar_subquery()))
                    .values(
                        status=RUNNING,
                        lease_owner=owner,
                        lease_expires_at=lease_until,
                        updated_at=now,
                    )
                    .returning(*requeue_jobs.c)
                )
            ).first()
        return job_from_row(row) if row else None

    async def run_chunk(
        self, job: RequeueJob, owner: str, *, now: datetime, lease_until: datetime, size: int
    ) -> tuple[RequeueJob, int] | None:
        """Queue the next ``size`` matching deliveries again and advance the job, in one
        transaction. Returns the job as it is now and how many were queued, or None if
        this runner no longer holds the job."""
        async with self.db.write() as conn:
            held = (
                await conn.execute(
                    sa.select(requeue_jobs.c.last_id).where(
                        requeue_jobs.c.id == job.id,
                        requeue_jobs.c.lease_owner == owner,
                        requeue_jobs.c.status == RUNNING,
                    )
                )
            ).first()
            if held is None:
                return None
            chunk = (
                sa.select(deliveries.c.id)
                .where(*_matching(job.account_id, job.filter))
                .order_by(deliveries.c.id)
                .limit(size)
            )
            if held.last_id is not None:
                chunk = chunk.where(deliveries.c.id > held.last_id)
            # No lock on the read: the UPDATE below re-checks each row's status (after
            # waiting for any writer of it on PostgreSQL), so nothing in flight is touched.
            ids = list((await conn.execute(chunk)).scalars())
            queued = 0
            if ids:
                finished = [
                    s.value
                    for s in (
                        DeliveryStatus.FAILED,
                        DeliveryStatus.HELD,
                        DeliveryStatus.SUCCEEDED,
                        DeliveryStatus.CANCELLED,
                    )
                ]
                result = await conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id.in_(ids), deliveries.c.status.in_(finished))
                    .values(
                        # A held delivery was never tried: it gets its webhook's whole retry
                        # policy. A finished one gets one more attempt, like a manual retry.
                        trigger=sa.case(
                            (
                                deliveries.c.status == DeliveryStatus.HELD.value,
                                Trigger.SCHEDULED.value,
                            ),
                            else_=Trigger.MANUAL.value,
                        ),
                        status=DeliveryStatus.PENDING.value,
                        next_attempt_at=now,
                        updated_at=now,
                    )
                )
                queued = int(result.rowcount)
            done = len(ids) < size
            values: dict[str, Any] = {
                "queued": requeue_jobs.c.queued + queued,
                "last_id": ids[-1] if ids else held.last_id,
                "updated_at": now,
                "lease_expires_at": lease_until,
            }
            if done:
                values |= {
                    "status": DONE,
                    "finished_at": now,
                    "lease_owner": None,
                    "lease_expires_at": None,
                }
            row = (
                await conn.execute(
                    requeue_jobs.update()
                    .where(requeue_jobs.c.id == job.id)
                    .values(**values)
                    .returning(*requeue_jobs.c)
                )
            ).one()
        return job_from_row(row), queued


class _Row:
    """Attribute access to a dict of column values."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
