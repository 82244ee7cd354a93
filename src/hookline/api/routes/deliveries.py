"""Operating on deliveries: search, stats, bulk retry and recover, resend, test events,
and one attempt's exact request and response."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query

from hookline.api import responses as out
from hookline.api import shapes
from hookline.api.deps import AccountDep, Cursor, Limit, SystemDep
from hookline.api.openapi import errors
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON
from hookline.api.schemas import BulkRetry, Recover, Resend, TestEvent, Timestamp
from hookline.domain.models import DeliveryStatus
from hookline.domain.search import DeliveryFilter
from hookline.services.deliveries import Sent

router = APIRouter(route_class=GuardedRoute, prefix="/v1", tags=["deliveries"])

Id = Annotated[str | None, Query(max_length=40)]
Since = Annotated[Timestamp | None, Query()]


@router.get("/deliveries", response_class=JSON, response_model=shapes.Page[shapes.Delivery])
async def search_deliveries(
    account: AccountDep,
    sys: SystemDep,
    status: DeliveryStatus | None = None,
    webhook_id: Id = None,
    event_type: Annotated[str | None, Query(max_length=255)] = None,
    event_id: Id = None,
    since: Since = None,
    until: Since = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Any:
    """The account's deliveries, newest first, filtered by any of the parameters."""
    f = DeliveryFilter(
        statuses=(status,) if status else (),
        webhook_id=webhook_id,
        event_type=event_type,
        event_id=event_id,
        since=since,
        until=until,
    )
    p = await sys.deliveries.search(account, f, cursor=cursor, limit=limit)
    return JSON(out.page([out.delivery_out(d) for d in p.items], p))


@router.post(
    "/deliveries/retry", status_code=202, response_class=JSON, response_model=shapes.Requeue
)
async def retry_deliveries(body: BulkRetry, account: AccountDep, sys: SystemDep) -> Any:
    """Queue again every finished delivery the filters match (failed ones by default),
    in the background. ``queued`` is how many matched when the request was accepted."""
    statuses = [body.status] if isinstance(body.status, str) else body.status or []
    job = await sys.requeue.retry(
        account,
        DeliveryFilter(
            statuses=tuple(DeliveryStatus(s) for s in statuses),
            webhook_id=body.webhook_id,
            event_type=body.event_type,
            since=body.since,
            until=body.until,
        ),
    )
    return JSON(out.requeue_out(job), status_code=202)


@router.get("/requeues/{requeue_id}", response_class=JSON, response_model=shapes.Requeue)
async def get_requeue(requeue_id: str, account: AccountDep, sys: SystemDep) -> Any:
    """The progress of a recover or bulk retry."""
    return JSON(out.requeue_out(await sys.requeue.get(account, requeue_id)))


@router.post(
    "/webhooks/{webhook_id}/recover",
    status_code=202,
    response_class=JSON,
    response_model=shapes.Requeue,
    responses=errors(409),
)
async def recover_webhook(
    webhook_id: str, body: Recover, account: AccountDep, sys: SystemDep
) -> Any:
    """Queue again the webhook's failed and held deliveries made in the window."""
    job = await sys.requeue.recover(
        account,
        webhook_id,
        since=body.since,
        until=body.until,
        statuses=[DeliveryStatus(s) for s in body.statuses] if body.statuses else None,
    )
    return JSON(out.requeue_out(job), status_code=202)


@router.get("/webhooks/{webhook_id}/stats", response_class=JSON, response_model=shapes.WebhookStats)
async def webhook_stats(
    webhook_id: str, account: AccountDep, sys: SystemDep, since: Since = None
) -> Any:
    """Deliveries by status, success rate and response times since ``since``."""
    stats, head = await sys.deliveries.stats(
        account, webhook_id, DeliveryFilter(webhook_id=webhook_id, since=since)
    )
    return JSON(out.stats_out(webhook_id, since, stats, head))


@router.post(
    "/deliveries/{delivery_id}/cancel",
    response_class=JSON,
    response_model=shapes.Delivery,
    responses=errors(409),
)
async def cancel_delivery(delivery_id: str, account: AccountDep, sys: SystemDep) -> Any:
    """Cancel a pending or held delivery: it is never sent (final, ``cancelled``). A FIFO
    webhook's next delivery goes once its head is cancelled. 409 for one in flight
    (``delivery_in_flight``) or finished (``delivery_finished``)."""
    return JSON(out.delivery_out(await sys.deliveries.cancel(account, delivery_id)))


@router.post(
    "/webhooks/{webhook_id}/test",
    status_code=202,
    response_class=JSON,
    response_model=shapes.Sent,
    responses=errors(409),
)
async def send_test(
    webhook_id: str, account: AccountDep, sys: SystemDep, body: TestEvent | None = None
) -> Any:
    """Send one test event to this webhook only (a ``hookline.test`` ping by default)."""
    data = orjson.dumps(body.data) if body is not None and body.data is not None else None
    sent = await sys.deliveries.send_test(account, webhook_id, body.type if body else None, data)
    return JSON(_sent_out(sent), status_code=202)


@router.post(
    "/events/{event_id}/resend",
    status_code=202,
    response_class=JSON,
    response_model=shapes.Sent,
    responses=errors(409),
)
async def resend_event(event_id: str, body: Resend, account: AccountDep, sys: SystemDep) -> Any:
    """Deliver an event again to one webhook, whether it subscribes to it or not."""
    sent = await sys.deliveries.resend(account, event_id, body.webhook_id)
    return JSON(_sent_out(sent), status_code=202)


@router.get("/attempts/{attempt_id}", response_class=JSON, response_model=shapes.AttemptDetail)
async def get_attempt(attempt_id: str, account: AccountDep, sys: SystemDep) -> Any:
    """One attempt: the exact request sent and the response received."""
    attempt, endpoint = await sys.deliveries.attempt(account, attempt_id)
    return JSON(out.attempt_detail(attempt, endpoint))


def _sent_out(sent: Sent) -> dict[str, Any]:
    return {
        "event_id": sent.event_id,
        "delivery_id": sent.delivery_id,
        "webhook_id": sent.webhook_id,
        "type": sent.event_type,
    }
