"""Events and their deliveries: a searchable delivery log that follows new attempts, one
event, one delivery (retry, cancel), and the attempt inspector.

The console sees the whole account; the portal only its application's webhooks, their
deliveries and attempts, and the events published to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from starlette.responses import Response

from hookline.api import responses as out
from hookline.console.registry import PAGES
from hookline.console.web import Page, local_time, page
from hookline.domain.models import Application, Delivery, DeliveryStatus, Endpoint
from hookline.domain.search import RETRYABLE, DeliveryFilter
from hookline.errors import InvalidInput, NotFound

PAGE_SIZE = 50
# Webhooks offered in the filter (and named in the table): at most the API's page size.
WEBHOOK_CHOICES = 250
MAX_TEXT = 255
MAX_ID = 64
# A delivery that will change soon: its page asks again until it settles.
IN_FLIGHT = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
CANCELLABLE = (DeliveryStatus.PENDING, DeliveryStatus.HELD)
FINISHED = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class Query:
    """The filter form's fields as sent (a query string, or the retry form's fields)."""

    app: str = ""
    event_type: str = ""
    status: str = ""
    webhook: str = ""
    since: str = ""
    until: str = ""

    @classmethod
    def read(cls, get: Callable[[str], str | None], portal: bool) -> Query:
        def field(name: str, limit: int) -> str:
            value = (get(name) or "").strip()
            if len(value) > limit:
                raise InvalidInput(f"{name} is too long", code="invalid_filter")
            return value

        return cls(
            app="" if portal else field("app", MAX_ID),
            event_type=field("event_type", MAX_TEXT),
            status=field("status", MAX_ID),
            webhook=field("webhook", MAX_ID),
            since=field("since", MAX_ID),
            until=field("until", MAX_ID),
        )

    def params(self) -> dict[str, str]:
        """The non-empty fields, for links that keep this filter."""
        return {
            k: v
            for k, v in (
                ("app", self.app),
                ("event_type", self.event_type),
                ("status", self.status),
                ("webhook", self.webhook),
                ("since", self.since),
                ("until", self.until),
            )
            if v
        }


def _status(value: str) -> DeliveryStatus | None:
    if not value:
        return None
    try:
        return DeliveryStatus(value)
    except ValueError:
        choices = ", ".join(s.value for s in DeliveryStatus)
        raise InvalidInput(f"status must be one of {choices}", code="invalid_status") from None


async def _filter(p: Page, q: Query) -> DeliveryFilter:
    """The search the form describes, within what the viewer may see: in the portal its
    application; in the console the chosen application, if one is."""
    if p.viewer.app_id is not None:
        app_id: str | None = p.viewer.app_id
    else:
        app_id = await p.app_id(q.app) if q.app else None
    status = _status(q.status)
    return DeliveryFilter(
        statuses=(status,) if status else (),
        webhook_id=(await p.webhook(q.webhook)).id if q.webhook else None,
        event_type=q.event_type or None,
        since=local_time("since", q.since),
        until=local_time("until", q.until),
        app_id=app_id,
    )


@dataclass(frozen=True, slots=True)
class Scope:
    """A filter resolved for this viewer, and what the form offers."""

    filter: DeliveryFilter
    webhooks: list[Endpoint]
    applications: list[Application]


async def _scope(p: Page, q: Query) -> Scope:
    f = await _filter(p, q)
    applications: list[Application] = []
    if p.viewer.app_id is None:
        found = await p.system.applications.list_page(p.account_id, cursor=None, limit=250)
        applications = found.items
    webhooks = await p.system.webhooks.list_page(
        p.account_id, cursor=None, limit=WEBHOOK_CHOICES, include_deleted=False, app_id=f.app_id
    )
    return Scope(filter=f, webhooks=webhooks.items, applications=applications)


async def _table(p: Page, q: Query, cursor: str | None) -> dict[str, Any]:
    scope = await _scope(p, q)
    found = await p.system.deliveries.search(
        p.account_id, scope.filter, cursor=cursor or None, limit=PAGE_SIZE
    )
    return {
        "q": q,
        "params": q.params(),
        "scope": scope,
        "deliveries": found.items,
        "next_cursor": found.next_cursor,
        "cursor": cursor or "",
        "urls": {w.id: w.url for w in scope.webhooks},
        "statuses": list(DeliveryStatus),
        "can_retry": not scope.filter.statuses
        or all(s in RETRYABLE for s in scope.filter.statuses),
        "live_webhook": scope.filter.webhook_id,
    }


def _query(p: Page) -> Query:
    return Query.read(p.request.query_params.get, portal=p.place.portal)


def _cursor(p: Page) -> str | None:
    cursor = p.request.query_params.get("cursor") or None
    if cursor is not None and len(cursor) > MAX_ID:
        raise InvalidInput("cursor is too long", code="invalid_cursor")
    return cursor


@PAGES.get("/events", portal=True)
async def events(p: Annotated[Page, Depends(page)]) -> Response:
    values = await _table(p, _query(p), _cursor(p))
    return p.render("events/list.html", nav="events", **values)


@PAGES.get("/events/table", portal=True)
async def events_table(p: Annotated[Page, Depends(page)]) -> Response:
    """The table alone, which the events page reloads as attempts come in."""
    values = await _table(p, _query(p), _cursor(p))
    return p.render("events/_table.html", **values)


@PAGES.post("/events/retry", portal=True)
async def retry_matching(p: Annotated[Page, Depends(page)]) -> Response:
    """Send again every finished delivery the filter matches (the failed ones when no
    status is chosen), as POST /v1/deliveries/retry does."""
    q = Query.read(p.form.optional, portal=p.place.portal)
    f = await _filter(p, q)
    await p.system.requeue.retry(p.account_id, f)
    return p.redirect("/events", flash="retry_all_started", **q.params())


async def _allow(p: Page, endpoint_id: str, resource: str) -> None:
    """In the portal, what belongs to another application's webhook is not found."""
    try:
        await p.allow_endpoint(endpoint_id)
    except NotFound:
        raise NotFound(resource) from None


@PAGES.get("/events/{event_id}", portal=True)
async def event(event_id: str, p: Annotated[Page, Depends(page)]) -> Response:
    sys = p.system
    detail = await sys.events.get(p.account_id, event_id)
    message = detail.message
    if p.viewer.app_id is not None and message.app_id != p.viewer.app_id:
        raise NotFound("event")
    hooks = await sys.webhooks.list_page(
        p.account_id,
        cursor=None,
        limit=WEBHOOK_CHOICES,
        include_deleted=True,
        app_id=message.app_id,
    )
    urls = {w.id: w.url for w in hooks.items}
    deliveries: list[Delivery] = []
    for d in detail.deliveries:
        if p.viewer.app_id is not None and d.endpoint_id not in urls:
            try:  # a resend to another application's webhook stays out of the portal
                await p.allow_endpoint(d.endpoint_id)
            except NotFound:
                continue
        deliveries.append(d)
    return p.render(
        "events/event.html",
        nav="events",
        message=message,
        deliveries=deliveries,
        attempts=detail.attempts,
        urls=urls,
    )


async def _delivery(p: Page, delivery_id: str) -> dict[str, Any]:
    sys = p.system
    delivery, attempts = await sys.deliveries.get(p.account_id, delivery_id)
    await _allow(p, delivery.endpoint_id, "delivery")
    webhook = await sys.webhooks.get(p.account_id, delivery.endpoint_id)
    return {
        "delivery": delivery,
        # Newest first, like every list of these pages.
        "attempts": sorted(attempts, key=lambda a: a.id, reverse=True),
        "webhook": webhook,
        "can_retry": delivery.status in FINISHED,
        "can_cancel": delivery.status in CANCELLABLE,
        "in_flight": delivery.status in IN_FLIGHT,
    }


@PAGES.get("/deliveries/{delivery_id}", portal=True)
async def delivery(delivery_id: str, p: Annotated[Page, Depends(page)]) -> Response:
    values = await _delivery(p, delivery_id)
    return p.render("events/delivery.html", nav="events", **values)


@PAGES.get("/deliveries/{delivery_id}/status", portal=True)
async def delivery_status(delivery_id: str, p: Annotated[Page, Depends(page)]) -> Response:
    """The delivery's state and attempts alone, which its page reloads as they change."""
    values = await _delivery(p, delivery_id)
    return p.render("events/_delivery_status.html", **values)


@PAGES.post("/deliveries/{delivery_id}/retry", portal=True)
async def retry_delivery(delivery_id: str, p: Annotated[Page, Depends(page)]) -> Response:
    delivery, _ = await p.system.deliveries.get(p.account_id, delivery_id)
    await _allow(p, delivery.endpoint_id, "delivery")
    await p.system.deliveries.retry(p.account_id, delivery_id)
    return p.redirect(f"/deliveries/{delivery_id}", flash="retry_queued")


@PAGES.post("/deliveries/{delivery_id}/cancel", portal=True)
async def cancel_delivery(delivery_id: str, p: Annotated[Page, Depends(page)]) -> Response:
    delivery, _ = await p.system.deliveries.get(p.account_id, delivery_id)
    await _allow(p, delivery.endpoint_id, "delivery")
    await p.system.deliveries.cancel(p.account_id, delivery_id)
    return p.redirect(f"/deliveries/{delivery_id}", flash="delivery_cancelled")


@PAGES.get("/attempts/{attempt_id}", portal=True)
async def attempt(attempt_id: str, p: Annotated[Page, Depends(page)]) -> Response:
    """The inspector: the exact request an attempt sent (secret headers masked, as the
    API shows it) and the response it got."""
    found, endpoint = await p.system.deliveries.attempt(p.account_id, attempt_id)
    await _allow(p, found.endpoint_id, "attempt")
    return p.render(
        "events/attempt.html",
        nav="events",
        attempt=found,
        detail=out.attempt_detail(found, endpoint),
        webhook=endpoint,
    )
