"""The overview: deliveries finished per minute, backlog, webhooks that need attention,
recent events."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.responses import Response

from hookline.console.charts import minute_chart
from hookline.console.registry import PAGES
from hookline.console.web import Page, page
from hookline.domain.models import DeliveryStatus, EndpointStatus
from hookline.domain.search import DeliveryFilter

MINUTES = 60


@PAGES.get("")
async def overview(p: Annotated[Page, Depends(page)]) -> Response:
    if p.viewer.is_admin:
        return p.redirect("/admin")
    account = p.account_id
    sys = p.system
    series = await sys.deliveries.finished_per_minute(account, MINUTES)
    backlog = await sys.deliveries.count(
        account, DeliveryFilter(statuses=(DeliveryStatus.PENDING, DeliveryStatus.SENDING))
    )
    held = await sys.deliveries.count(account, DeliveryFilter(statuses=(DeliveryStatus.HELD,)))
    webhooks = await sys.webhooks.list_page(
        account, cursor=None, limit=250, include_deleted=False, app_id=None
    )
    attention = [
        w
        for w in webhooks.items
        if w.status is EndpointStatus.DISABLED or w.failure_count > 0 or w.circuit != "closed"
    ]
    recent = await sys.events.list_page(account, event_type=None, cursor=None, limit=10)
    return p.render(
        "overview.html",
        nav="overview",
        chart=minute_chart(series),
        succeeded=sum(ok for _, ok, _ in series),
        failed=sum(bad for _, _, bad in series),
        backlog=backlog,
        held=held,
        attention=attention,
        recent=recent.items,
    )


@PAGES.get("/overview/chart")
async def overview_chart(p: Annotated[Page, Depends(page)]) -> Response:
    """The chart alone, which the overview reloads as attempts come in."""
    series = await p.system.deliveries.finished_per_minute(p.account_id, MINUTES)
    return p.render("_chart.html", chart=minute_chart(series))
