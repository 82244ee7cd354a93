"""Registering, reading and changing webhooks, and their delivery logs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hookline.api import responses as out
from hookline.api import shapes
from hookline.api.deps import AccountDep, Cursor, Limit, SystemDep
from hookline.api.openapi import errors
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON
from hookline.api.schemas import SecretRotate, WebhookCreate, WebhookUpdate
from hookline.domain.models import DeliveryMode, DeliveryStatus, Ordering, PayloadFormat
from hookline.domain.signing import KeyType, Scheme
from hookline.services.webhooks import WebhookSpec

router = APIRouter(route_class=GuardedRoute, prefix="/v1/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=201,
    response_class=JSON,
    response_model=shapes.WebhookCreated,
    responses=errors(404),
)
async def create_webhook(body: WebhookCreate, account: AccountDep, sys: SystemDep) -> Any:
    """Register a webhook. The secret (given or generated) is returned in this answer."""
    sig = body.signature
    endpoint = await sys.webhooks.create(
        account,
        await sys.applications.app_id(account, body.application),
        WebhookSpec(
            url=body.callback_url or "",
            secret=body.secret,
            events=body.events,
            retry_policy=body.retry_policy,
            scheme=Scheme(sig.scheme) if sig else Scheme.STANDARD,
            signature_header=sig.header if sig else None,
            description=body.description,
            headers=body.headers,
            send_traceparent=body.send_traceparent,
            secret_headers=body.secret_headers,
            rules=body.rules,
            mode=DeliveryMode(body.mode),
            key_type=KeyType(body.key_type) if body.key_type else None,
            rate_limit=body.rate_limit,
            ordering=Ordering(body.ordering),
            timeout=body.timeout,
            payload_format=PayloadFormat(body.payload_format),
        ),
    )
    return JSON(out.webhook_out(endpoint, secret=True), status_code=201)


@router.get(
    "", response_class=JSON, response_model=shapes.Page[shapes.Webhook], responses=errors(404)
)
async def list_webhooks(
    account: AccountDep,
    sys: SystemDep,
    cursor: Cursor = None,
    limit: Limit = 50,
    include_deleted: bool = False,
    application: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
) -> Any:
    """The webhooks of one application (by id or uid; the default one when absent)."""
    p = await sys.webhooks.list_page(
        account,
        cursor=cursor,
        limit=limit,
        include_deleted=include_deleted,
        app_id=await sys.applications.app_id(account, application),
    )
    return JSON(out.page([out.webhook_out(e) for e in p.items], p))


@router.get("/{webhook_id}", response_class=JSON, response_model=shapes.Webhook)
async def get_webhook(webhook_id: str, account: AccountDep, sys: SystemDep) -> Any:
    return JSON(out.webhook_out(await sys.webhooks.get(account, webhook_id)))


@router.patch(
    "/{webhook_id}", response_class=JSON, response_model=shapes.Webhook, responses=errors(409)
)
async def update_webhook(
    webhook_id: str, body: WebhookUpdate, account: AccountDep, sys: SystemDep
) -> Any:
    """Change the fields given; ``"active": false`` disables, ``true`` re-enables."""
    changes: dict[str, Any] = {}
    for field in body.model_fields_set:
        value = getattr(body, field)
        if field == "callback_url":
            if value is not None:
                changes["url"] = value
        elif field == "signature":
            changes["signature"] = value.model_dump() if value is not None else None
        elif field == "active":
            if value is not None:
                changes["active"] = value
        elif field == "secret_headers":
            changes["secret_headers"] = value or []
        else:
            changes[field] = value
    return JSON(out.webhook_out(await sys.webhooks.update(account, webhook_id, changes)))


@router.delete("/{webhook_id}", response_class=JSON, response_model=shapes.Webhook)
async def delete_webhook(webhook_id: str, account: AccountDep, sys: SystemDep) -> Any:
    """Deactivate for good: nothing more is delivered; history stays readable."""
    return JSON(out.webhook_out(await sys.webhooks.delete(account, webhook_id)))


@router.get("/{webhook_id}/secret", response_class=JSON, response_model=shapes.WebhookSecret)
async def get_secret(webhook_id: str, account: AccountDep, sys: SystemDep) -> Any:
    """The current secret; for an Ed25519 webhook also the ``whpk_`` public key, which is
    all a receiver needs."""
    return JSON(out.secret_out(await sys.webhooks.get(account, webhook_id)))


@router.post(
    "/{webhook_id}/secret/rotate",
    response_class=JSON,
    response_model=shapes.WebhookSecretRotated,
    responses=errors(409),
)
async def rotate_secret(
    webhook_id: str, account: AccountDep, sys: SystemDep, body: SecretRotate | None = None
) -> Any:
    """New secret now; the old one still signs alongside it for 24 hours. ``key_type``
    switches between HMAC and Ed25519 (default: the current kind)."""
    endpoint = await sys.webhooks.rotate_secret(
        account,
        webhook_id,
        body.secret if body else None,
        KeyType(body.key_type) if body and body.key_type else None,
    )
    return JSON(
        out.secret_out(endpoint)
        | {"previous_secret_expires_at": out.ts(endpoint.previous_secret_expires_at)}
    )


@router.get(
    "/{webhook_id}/deliveries", response_class=JSON, response_model=shapes.Page[shapes.Delivery]
)
async def list_deliveries(
    webhook_id: str,
    account: AccountDep,
    sys: SystemDep,
    status: DeliveryStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Any:
    p, attempts = await sys.deliveries.list_for_webhook(
        account, webhook_id, status=status, cursor=cursor, limit=limit
    )
    return JSON(out.page([out.delivery_out(d, attempts[d.id]) for d in p.items], p))
