"""The gateway, as an account sees it: the APIs it owns and what they earned, and as a
consumer its balance, the catalog, its calls and its ledger."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import Depends, Query
from starlette.responses import Response

from hookline.console.registry import PAGES
from hookline.console.web import Page, page
from hookline.domain.gateway import ApiStatus, UsageRow

Cursor = Annotated[str | None, Query(max_length=64)]
Search = Annotated[str | None, Query(max_length=200)]
OWNED = 100  # an owner's APIs on one page
CATALOG = 25
CALLS = 20
LEDGER = 20


def _earned(rows: list[UsageRow]) -> dict[str, int]:
    """What each API earned over the periods the usage gives."""
    earned: dict[str, int] = defaultdict(int)
    for row in rows:
        earned[row.api_id] += row.amount
    return earned


@PAGES.get("/gateway")
async def gateway(
    p: Annotated[Page, Depends(page)],
    q: Search = None,
    apis: Cursor = None,
    catalog: Cursor = None,
    calls: Cursor = None,
    ledger: Cursor = None,
) -> Response:
    account = p.account_id
    sys = p.system
    owned = await sys.catalog.list_owned(account, apis, OWNED)
    usage = await sys.wallets.usage(
        account, role="owner", period="month", since=None, until=None, api_id=None
    )
    wallet = await sys.wallets.wallet(account)
    found = await sys.catalog.search(q, catalog, CATALOG)
    recent = await sys.calls.list_page(account, status=None, api_id=None, cursor=calls, limit=CALLS)
    entries = await sys.wallets.ledger(account, call_id=None, cursor=ledger, limit=LEDGER)
    earned = _earned(usage)
    # Calls and ledger entries name APIs by id; show a name where this page knows it.
    names = {a.id: a.name for a in found.items} | {a.id: a.name for a in owned.items}
    current = {"q": q, "apis": apis, "catalog": catalog, "calls": calls, "ledger": ledger}

    def more(**change: Any) -> str:
        """This page with one list moved on to its next page, the others kept."""
        return p.url("/gateway", **(current | change))

    return p.render(
        "gateway/index.html",
        nav="gateway",
        owned=owned,
        earned=earned,
        earned_total=sum(earned.values()),
        wallet=wallet,
        q=q or "",
        found=found,
        recent=recent,
        entries=entries,
        names=names,
        more=more,
        current=current,
    )


@PAGES.get("/gateway/apis/{api_id}")
async def api_detail(api_id: str, p: Annotated[Page, Depends(page)]) -> Response:
    account = p.account_id
    sys = p.system
    api = await sys.catalog.get_owned(account, api_id)
    usage = await sys.wallets.usage(
        account, role="owner", period="month", since=None, until=None, api_id=api.id
    )
    return p.render(
        "gateway/api.html",
        nav="gateway",
        api=api,
        paused=api.status is ApiStatus.PAUSED,
        usage=list(reversed(usage)),  # newest month first
        earned_total=sum(u.amount for u in usage),
    )


@PAGES.post("/gateway/apis/{api_id}/pause")
async def pause_api(api_id: str, p: Annotated[Page, Depends(page)]) -> Response:
    api = await p.system.catalog.set_paused(p.account_id, api_id, True)
    return p.redirect(f"/gateway/apis/{api.id}", flash="api_paused")


@PAGES.post("/gateway/apis/{api_id}/resume")
async def resume_api(api_id: str, p: Annotated[Page, Depends(page)]) -> Response:
    api = await p.system.catalog.set_paused(p.account_id, api_id, False)
    return p.redirect(f"/gateway/apis/{api.id}", flash="api_resumed")


@PAGES.get("/gateway/calls/{call_id}")
async def call_detail(call_id: str, p: Annotated[Page, Depends(page)]) -> Response:
    account = p.account_id
    detail = await p.system.calls.get(account, call_id)
    entries = await p.system.wallets.ledger(account, call_id=detail.call.id, cursor=None, limit=50)
    return p.render(
        "gateway/call.html",
        nav="gateway",
        call=detail.call,
        deliveries=detail.deliveries,
        queue_position=detail.queue_position,
        entries=entries.items,
    )
