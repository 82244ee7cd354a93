"""Message attempts: each HTTP try of a message to an endpoint, and resending."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from hookline.api.deps import AccountDep, SystemDep
from hookline.api.responses import JSON
from hookline.api.svix import wire
from hookline.api.svix.messages import message_of
from hookline.domain.models import Attempt, Trigger
from hookline.errors import NotFound
from hookline.system import System

router = wire.router("/app/{app_id}")
# Svix's attempt statuses: 0 success, 1 pending, 2 fail, 3 sending.
SUCCESS, PENDING, FAIL, SENDING = 0, 1, 2, 3


def attempt_out(a: Attempt, url: str) -> dict[str, Any]:
    ok = a.status_code is not None and 200 <= a.status_code < 300
    return {
        "id": a.id,
        "msgId": a.message_id,
        "endpointId": a.endpoint_id,
        "url": url,
        "response": a.response_body or a.error_detail or "",
        "responseStatusCode": a.status_code or 0,
        "responseDurationMs": a.duration_ms,
        "status": SUCCESS if ok else FAIL,
        "statusText": "success" if ok else "fail",
        "triggerType": 1 if a.trigger is Trigger.MANUAL else 0,
        "timestamp": wire.when(a.created_at),
    }


def _succeeded(status: int | None) -> bool | None:
    if status is None:
        return None
    if status not in (SUCCESS, FAIL):
        raise wire.unsupported("filtering attempts by a status other than 0 or 2")
    return status == SUCCESS


async def _listing(
    sys: System,
    account: str,
    *,
    endpoint_id: str | None,
    message_id: str | None,
    status: int | None,
    iterator: str | None,
    limit: int,
) -> Response:
    p = await sys.deliveries.attempts_page(
        account,
        endpoint_id=endpoint_id,
        message_id=message_id,
        succeeded=_succeeded(status),
        cursor=iterator,
        limit=limit,
    )
    urls: dict[str, str] = {}
    for a in p.items:
        if a.endpoint_id not in urls:
            urls[a.endpoint_id] = (await sys.webhooks.get(account, a.endpoint_id)).url
    return wire.listing(p.items, p, lambda a: attempt_out(a, urls[a.endpoint_id]))


@router.get("/attempt/msg/{msg_id}")
async def list_by_message(
    app_id: str,
    msg_id: str,
    account: AccountDep,
    sys: SystemDep,
    status: int | None = None,
    endpoint_id: str | None = None,
    limit: wire.Limit = 50,
    iterator: wire.Iterator = None,
) -> Response:
    message = await message_of(sys, account, app_id, msg_id)
    if endpoint_id is not None:
        endpoint_id = (await sys.webhooks.find(account, message.app_id, endpoint_id)).id
    return await _listing(
        sys,
        account,
        endpoint_id=endpoint_id,
        message_id=message.id,
        status=status,
        iterator=iterator,
        limit=limit,
    )


@router.get("/attempt/endpoint/{endpoint_id}")
async def list_by_endpoint(
    app_id: str,
    endpoint_id: str,
    account: AccountDep,
    sys: SystemDep,
    status: int | None = None,
    limit: wire.Limit = 50,
    iterator: wire.Iterator = None,
) -> Response:
    app = await sys.applications.get(account, app_id)
    endpoint = await sys.webhooks.find(account, app.id, endpoint_id)
    return await _listing(
        sys,
        account,
        endpoint_id=endpoint.id,
        message_id=None,
        status=status,
        iterator=iterator,
        limit=limit,
    )


@router.get("/msg/{msg_id}/attempt/{attempt_id}")
async def get_attempt(
    app_id: str, msg_id: str, attempt_id: str, account: AccountDep, sys: SystemDep
) -> Response:
    message = await message_of(sys, account, app_id, msg_id)
    attempt, endpoint = await sys.deliveries.attempt(account, attempt_id)
    if attempt.message_id != message.id:
        raise NotFound("attempt")
    return JSON(attempt_out(attempt, endpoint.url))


@router.post("/msg/{msg_id}/endpoint/{endpoint_id}/resend", status_code=202)
async def resend(
    app_id: str, msg_id: str, endpoint_id: str, account: AccountDep, sys: SystemDep
) -> Response:
    """The message once more to this endpoint, subscribed or not."""
    message = await message_of(sys, account, app_id, msg_id)
    endpoint = await sys.webhooks.find(account, message.app_id, endpoint_id)
    await sys.deliveries.resend(account, message.id, endpoint.id)
    return JSON({}, status_code=202)
