"""``/api/v1/app/{app}/endpoint``: Svix endpoints over Hookline's webhooks.

Endpoints made here receive the message payload itself (``payload_format: raw``), with
``svix-*`` and ``webhook-*`` signature headers, as Svix sends them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
from starlette.responses import Response

from hookline.api.deps import AccountDep, SystemDep
from hookline.api.responses import JSON
from hookline.api.svix import wire
from hookline.api.svix.messages import message_out
from hookline.domain import svix_operational
from hookline.domain.models import Endpoint, EndpointStatus, PayloadFormat
from hookline.domain.search import DeliveryFilter
from hookline.errors import NotFound
from hookline.services.webhooks import ROTATION_GRACE, WebhookSpec
from hookline.system import System

router = wire.router("/app/{app_id}/endpoint")


class EndpointPatch(wire.Camel):
    url: str | None = None
    description: str | None = None
    uid: str | None = None
    disabled: bool | None = None
    # SDKs send the subscribed types as eventTypes (2.x) or filterTypes (1.x).
    event_types: list[str] | None = None
    filter_types: list[str] | None = None
    channels: list[str] | None = None
    metadata: dict[str, str] | None = None
    throttle_rate: int | None = None
    rate_limit: int | None = None


class EndpointIn(EndpointPatch):
    url: str
    secret: str | None = None
    headers: dict[str, str] | None = None


class SecretRotateIn(wire.Camel):
    key: str | None = None
    grace_period_seconds: int | None = None


class HeadersIn(wire.Camel):
    headers: dict[str, str]


class HeadersPatchIn(HeadersIn):
    delete_headers: list[str] | None = None


class RecoverIn(wire.Camel):
    since: datetime
    until: datetime | None = None


class ExampleIn(wire.Camel):
    event_type: str
    example_index: int | None = None
    payload: dict[str, Any] | None = None


def endpoint_out(e: Endpoint) -> dict[str, Any]:
    types = svix_operational.to_svix(e.event_types) if e.event_types else None
    return {
        "id": e.id,
        "uid": e.uid,
        "url": e.url,
        "description": e.description,
        "metadata": e.metadata,
        "disabled": e.status is not EndpointStatus.ACTIVE,
        "eventTypes": types,
        "filterTypes": types,
        "channels": list(e.channels) if e.channels is not None else None,
        "throttleRate": _whole_rate(e.rate_limit),
        "rateLimit": _whole_rate(e.rate_limit),
        "version": 1,
        "createdAt": wire.when(e.created_at),
        "updatedAt": wire.when(e.updated_at),
    }


def _whole_rate(rate: float | None) -> int | None:
    """Svix's rates are whole numbers per second; a fractional native one shows rounded,
    and never as 0 (which would read as no sending at all)."""
    return None if rate is None else max(1, round(rate))


def _changes(body: EndpointPatch) -> dict[str, Any]:
    """The webhook service's names for the fields this body sets."""
    changes: dict[str, Any] = {}
    for field in body.model_fields_set:
        value = getattr(body, field)
        if field in ("event_types", "filter_types"):
            changes["events"] = svix_operational.to_hookline(value) or None
        elif field in ("throttle_rate", "rate_limit"):
            changes["rate_limit"] = value
        elif field == "disabled":
            if value is not None:
                changes["active"] = not value
        elif field == "description":
            changes["description"] = value or ""
        elif field == "url":
            if value is not None:
                changes["url"] = value
        elif field in ("uid", "channels", "metadata"):
            changes[field] = value
    return changes


async def _app_id(sys: System, account: str, app_id: str) -> str:
    return (await sys.applications.get(account, app_id)).id


async def _endpoint(sys: System, account: str, app_id: str, endpoint_id: str) -> Endpoint:
    return await sys.webhooks.find(account, await _app_id(sys, account, app_id), endpoint_id)


async def _create(sys: System, account: str, app_id: str, body: EndpointIn) -> Endpoint:
    types = body.event_types if body.event_types is not None else body.filter_types
    return await sys.webhooks.create(
        account,
        await _app_id(sys, account, app_id),
        WebhookSpec(
            url=body.url,
            secret=body.secret,
            events=svix_operational.to_hookline(types) or None,
            description=body.description or "",
            headers=body.headers,
            uid=body.uid,
            metadata=body.metadata,
            channels=body.channels,
            rate_limit=body.throttle_rate or body.rate_limit,
            payload_format=PayloadFormat.RAW,
            active=not body.disabled,
        ),
    )


@router.get("")
async def list_endpoints(
    app_id: str,
    account: AccountDep,
    sys: SystemDep,
    limit: wire.Limit = 50,
    iterator: wire.Iterator = None,
) -> Response:
    p = await sys.webhooks.list_page(
        account, cursor=iterator, limit=limit, app_id=await _app_id(sys, account, app_id)
    )
    return wire.listing(p.items, p, endpoint_out)


@router.post("")
async def create_endpoint(
    app_id: str, body: EndpointIn, account: AccountDep, sys: SystemDep
) -> Response:
    return JSON(endpoint_out(await _create(sys, account, app_id, body)), status_code=201)


@router.get("/{endpoint_id}")
async def get_endpoint(
    app_id: str, endpoint_id: str, account: AccountDep, sys: SystemDep
) -> Response:
    return JSON(endpoint_out(await _endpoint(sys, account, app_id, endpoint_id)))


@router.put("/{endpoint_id}")
async def upsert_endpoint(
    app_id: str, endpoint_id: str, body: EndpointIn, account: AccountDep, sys: SystemDep
) -> Response:
    """Replace the endpoint's settings; one that does not exist is created with this
    uid."""
    try:
        current = await _endpoint(sys, account, app_id, endpoint_id)
    except NotFound:
        body = body.model_copy(update={"uid": body.uid or endpoint_id})
        return JSON(endpoint_out(await _create(sys, account, app_id, body)), status_code=201)
    changes = _changes(body)
    for absent in ("description", "channels", "metadata", "events", "rate_limit"):
        changes.setdefault(absent, None)
    changes.setdefault("active", True)
    return JSON(endpoint_out(await sys.webhooks.update(account, current.id, changes)))


@router.patch("/{endpoint_id}")
async def patch_endpoint(
    app_id: str, endpoint_id: str, body: EndpointPatch, account: AccountDep, sys: SystemDep
) -> Response:
    current = await _endpoint(sys, account, app_id, endpoint_id)
    return JSON(endpoint_out(await sys.webhooks.update(account, current.id, _changes(body))))


@router.delete("/{endpoint_id}", status_code=204)
async def delete_endpoint(
    app_id: str, endpoint_id: str, account: AccountDep, sys: SystemDep
) -> Response:
    current = await _endpoint(sys, account, app_id, endpoint_id)
    await sys.webhooks.delete(account, current.id)
    return wire.no_content()


@router.get("/{endpoint_id}/secret")
async def get_secret(
    app_id: str, endpoint_id: str, account: AccountDep, sys: SystemDep
) -> Response:
    return JSON({"key": (await _endpoint(sys, account, app_id, endpoint_id)).secret})


@router.post("/{endpoint_id}/secret/rotate")
async def rotate_secret(
    app_id: str, endpoint_id: str, body: SecretRotateIn, account: AccountDep, sys: SystemDep
) -> Response:
    """A new secret (given or generated); the previous one keeps signing alongside for
    the grace period (24 hours unless given)."""
    current = await _endpoint(sys, account, app_id, endpoint_id)
    grace = body.grace_period_seconds
    rotated = await sys.webhooks.rotate_secret(
        account,
        current.id,
        body.key,
        grace=ROTATION_GRACE if grace is None else timedelta(seconds=grace),
    )
    return JSON({"key": rotated.secret})


@router.get("/{endpoint_id}/headers")
async def get_headers(
    app_id: str, endpoint_id: str, account: AccountDep, sys: SystemDep
) -> Response:
    e = await _endpoint(sys, account, app_id, endpoint_id)
    hidden = {h.lower() for h in e.secret_headers}
    return JSON(
        {
            "headers": {k: v for k, v in e.headers.items() if k.lower() not in hidden},
            "sensitive": list(e.secret_headers),
        }
    )


@router.put("/{endpoint_id}/headers", status_code=204)
async def set_headers(
    app_id: str, endpoint_id: str, body: HeadersIn, account: AccountDep, sys: SystemDep
) -> Response:
    current = await _endpoint(sys, account, app_id, endpoint_id)
    await sys.webhooks.update(account, current.id, {"headers": body.headers})
    return wire.no_content()


@router.patch("/{endpoint_id}/headers", status_code=204)
async def patch_headers(
    app_id: str, endpoint_id: str, body: HeadersPatchIn, account: AccountDep, sys: SystemDep
) -> Response:
    current = await _endpoint(sys, account, app_id, endpoint_id)
    gone = {h.lower() for h in body.delete_headers or ()}
    headers = {k: v for k, v in current.headers.items() if k.lower() not in gone}
    headers.update(body.headers)
    await sys.webhooks.update(account, current.id, {"headers": headers})
    return wire.no_content()


@router.post("/{endpoint_id}/recover", status_code=202)
async def recover(
    app_id: str, endpoint_id: str, body: RecoverIn, account: AccountDep, sys: SystemDep
) -> Response:
    """Send again what failed (or was held) since ``since``, in the background."""
    current = await _endpoint(sys, account, app_id, endpoint_id)
    job = await sys.requeue.recover(
        account, current.id, since=body.since, until=body.until, statuses=None
    )
    return JSON(
        {
            "id": job.id,
            "status": "finished" if job.finished_at is not None else "running",
            "task": "endpoint.recover",
            "updatedAt": wire.when(job.finished_at or job.created_at),
        },
        status_code=202,
    )


@router.post("/{endpoint_id}/send-example", status_code=202)
async def send_example(
    app_id: str, endpoint_id: str, body: ExampleIn, account: AccountDep, sys: SystemDep
) -> Response:
    """One message of this type to this endpoint alone: the given payload, else the
    type's registered example."""
    current = await _endpoint(sys, account, app_id, endpoint_id)
    data = orjson.dumps(body.payload) if body.payload is not None else None
    sent = await sys.deliveries.send_test(account, current.id, body.event_type, data)
    detail = await sys.events.get(account, sent.event_id)
    return JSON(message_out(detail.message, with_content=True), status_code=202)


@router.get("/{endpoint_id}/stats")
async def stats(
    app_id: str,
    endpoint_id: str,
    account: AccountDep,
    sys: SystemDep,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    current = await _endpoint(sys, account, app_id, endpoint_id)
    found, _head_of_line = await sys.deliveries.stats(
        account, current.id, DeliveryFilter(webhook_id=current.id, since=since, until=until)
    )
    n = found.counts
    return JSON(
        {
            "success": n.get("succeeded", 0),
            "pending": n.get("pending", 0) + n.get("held", 0),
            "sending": n.get("sending", 0),
            "fail": n.get("failed", 0),
            "canceled": n.get("cancelled", 0),
        }
    )


@router.api_route(
    "/{endpoint_id}/{feature:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"]
)
async def not_supported(app_id: str, endpoint_id: str, feature: str) -> Response:
    """Transformations, bulk replay, replay-missing, attempt stats and the like. Routed
    last: every supported path of an endpoint is matched before this."""
    raise wire.unsupported(f"the endpoint feature {feature!r}")
