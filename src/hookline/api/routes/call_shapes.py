"""Other request shapes for calling an API, as self-hosted API gateways' own samples
make them, so a consumer who copies one succeeds. Each translates to the same
:func:`accept_call` as ``POST /v1/calls``: shapes only, no logic of their own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request

from hookline.api import shapes
from hookline.api.deps import SystemDep, bearer
from hookline.api.gateway_schemas import InternalCall
from hookline.api.openapi import errors
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON
from hookline.api.routes.calls import accept_call, ended_within_wait
from hookline.errors import AuthenticationFailed
from hookline.services.calls import CallRequest

router = APIRouter(route_class=GuardedRoute, tags=["gateway"])


def with_request_id(out: dict[str, Any]) -> dict[str, Any]:
    """The request id also as ``requestId`` and ``result.requestId``, where those
    samples read it. ``result`` holds the call's result fields once it has one."""
    result = out["result"] if isinstance(out["result"], dict) else {}
    return out | {
        "requestId": out["request_id"],
        "result": result | {"requestId": out["request_id"]},
    }


@router.post(
    "/internal/call",
    status_code=202,
    response_class=JSON,
    response_model=shapes.GatewayCall,
    responses=errors(402, 404, 409, 429) | ended_within_wait(shapes.GatewayCall),
    # The key is read by the route itself (also from X-Consumer-Key below); this
    # declares it to the document as on every other route.
    dependencies=[Depends(bearer)],
)
async def internal_call(
    body: InternalCall,
    request: Request,
    sys: SystemDep,
    # OpenAPI ignores a header parameter named Authorization: the bearer scheme states it.
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    prefer: Annotated[str | None, Header(max_length=200)] = None,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> Any:
    """``{"api_id_public", "method", "path", "params": {…, "webhook_url"}}`` with
    ``Authorization: Bearer <consumer key>``; 202 with ``requestId``."""
    account = (await sys.accounts.authenticate(authorization)).require_account()
    return await accept_call(
        request,
        sys,
        account,
        CallRequest(
            api_id=body.api_id_public,
            method=body.method,
            path=body.path,
            params=body.params,
            webhook_url=body.webhook_url,
            idempotency_key=body.idempotency_key or idempotency_key,
            cancel_after=body.cancel_after,
            webhook_events=body.webhook_events,
        ),
        prefer=prefer,
        extra=with_request_id,
    )


@router.post(
    "/v1/apis/{api_id}/call",
    status_code=202,
    response_class=JSON,
    response_model=shapes.GatewayCall,
    responses=errors(402, 404, 409, 429) | ended_within_wait(shapes.GatewayCall),
    # The key is read by the route itself (also from X-Consumer-Key below); this
    # declares it to the document as on every other route.
    dependencies=[Depends(bearer)],
)
async def public_call(
    api_id: str,
    request: Request,
    sys: SystemDep,
    body: Annotated[Any, Body()] = None,
    x_consumer_key: Annotated[str | None, Header(max_length=300)] = None,
    # OpenAPI ignores a header parameter named Authorization: the bearer scheme states it.
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    prefer: Annotated[str | None, Header(max_length=200)] = None,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    cancel_after: Annotated[str | None, Header(max_length=32)] = None,
) -> Any:
    """The API's own JSON body, forwarded as it is (a ``webhook_url`` inside it is
    Hookline's and removed), with ``X-Consumer-Key: <consumer key>`` (or the usual
    ``Authorization``)."""
    if x_consumer_key is None and authorization is None:
        raise AuthenticationFailed()
    who = await sys.accounts.authenticate(
        f"Bearer {x_consumer_key}" if x_consumer_key is not None else authorization
    )
    return await accept_call(
        request,
        sys,
        who.require_account(),
        CallRequest(
            api_id=api_id,
            method="POST",
            params=body,
            idempotency_key=idempotency_key,
            cancel_after=cancel_after,
        ),
        prefer=prefer,
        extra=with_request_id,
    )
