"""Async API calls: 202 now, the result by webhook later; polling, cancelling, and the
route upstreams report to in ``callback`` mode."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request

from hookline.api.deps import AccountDep, Cursor, Limit, SystemDep
from hookline.api.gateway_responses import call_out
from hookline.api.gateway_schemas import CallCreate
from hookline.api.responses import JSON, page
from hookline.domain.gateway import CallStatus
from hookline.errors import InvalidInput
from hookline.services.calls import CallRequest
from hookline.system import System

router = APIRouter(prefix="/v1", tags=["gateway"])


def base_url(request: Request, sys: System) -> str:
    """Where clients reach this server: the configured public URL, else this request's."""
    return sys.settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")


@router.post("/calls", status_code=202, response_class=JSON)
async def create_call(
    body: CallCreate,
    request: Request,
    account: AccountDep,
    sys: SystemDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> Any:
    """Queue a call and answer at once; nothing has been forwarded yet. The price is
    reserved now (402 insufficient_balance if the balance cannot cover it)."""
    base = base_url(request, sys)
    call, created = await sys.calls.call(
        account,
        CallRequest(
            api_id=body.api_id,
            method=body.method,
            path=body.path,
            params=body.params,
            body=body.body,
            webhook_url=body.webhook_url,
            idempotency_key=body.idempotency_key or idempotency_key,
            timeout=body.timeout,
            test=body.test,
            progress=body.progress,
        ),
        base,
    )
    if created:
        sys.metrics.calls_accepted.inc()
    out = call_out(call, base) | {"duplicate": not created}
    return JSON(out, status_code=202, headers={"Location": out["status_url"]})


@router.get("/calls", response_class=JSON)
async def list_calls(
    request: Request,
    account: AccountDep,
    sys: SystemDep,
    status: CallStatus | None = None,
    api_id: str | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Any:
    p = await sys.calls.list_page(account, status=status, api_id=api_id, cursor=cursor, limit=limit)
    base = base_url(request, sys)
    return JSON(page([call_out(c, base) for c in p.items], p))


@router.get("/calls/{call_id}", response_class=JSON)
async def get_call(call_id: str, request: Request, account: AccountDep, sys: SystemDep) -> Any:
    """The call's status, its result once it has one, and the webhooks sent for it."""
    detail = await sys.calls.get(account, call_id)
    return JSON(call_out(detail.call, base_url(request, sys), detail.deliveries))


@router.post("/calls/{call_id}/cancel", response_class=JSON)
async def cancel_call(call_id: str, request: Request, account: AccountDep, sys: SystemDep) -> Any:
    """Cancel a queued or running call (409 call_finished if it has ended)."""
    call = await sys.calls.cancel(account, call_id)
    sys.metrics.calls_finished.labels(call.status.value).inc()
    return JSON(call_out(call, base_url(request, sys)))


@router.post("/callbacks/{call_id}/{token}", response_class=JSON)
async def upstream_callback(call_id: str, token: str, request: Request, sys: SystemDep) -> Any:
    """For upstreams: the URL sent in ``Hookline-Callback-Url`` (the token in it is the
    credential). ``{"progress": …}`` is an update; anything else is the result."""
    try:
        doc = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidInput("the body is not valid JSON", code="invalid_json") from None
    if not isinstance(doc, dict):
        raise InvalidInput("the body must be a JSON object", code="invalid_callback")
    call = await sys.calls.callback(call_id, token, doc)
    if call.status.is_final:
        sys.metrics.calls_finished.labels(call.status.value).inc()
    return JSON({"request_id": call.id, "status": call.status.value}, status_code=202)
