"""The exact request one attempt of a delivery makes: body and signed headers.

The worker sends it; a listen stream hands it to ``hookline listen``, which sends it on
to a local app, so both carry the same bytes and signatures.
"""

from __future__ import annotations

from datetime import datetime

from hookline.domain import svix_operational
from hookline.domain.envelope import event_body
from hookline.domain.models import Dispatch, PayloadFormat
from hookline.domain.signing import signature_headers

SVIX_NAMES = {
    "webhook-id": "svix-id",
    "webhook-timestamp": "svix-timestamp",
    "webhook-signature": "svix-signature",
}


def signed_request(
    d: Dispatch, now: datetime, *, traceparent: str | None = None
) -> tuple[bytes, dict[str, str]]:
    ep, msg = d.endpoint, d.message
    raw = ep.payload_format is PayloadFormat.RAW
    rendered = (
        svix_operational.render(
            msg.event_type, msg.payload, app_id=ep.app_id, created_at=msg.created_at
        )
        if raw
        else None
    )
    body = (
        rendered
        if rendered is not None
        else msg.payload.encode()
        if raw
        else event_body(
            message_id=msg.id,
            event_type=msg.event_type,
            webhook_id=ep.id,
            idempotency_key=msg.idempotency_key,
            created_at=msg.created_at,
            payload_json=msg.payload,
        )
    )
    headers = dict(ep.headers)
    headers["Content-Type"] = "application/json"
    if traceparent is not None:
        headers["traceparent"] = traceparent
    signed = signature_headers(
        scheme=ep.scheme,
        header=ep.signature_header,
        secrets=ep.signing_secrets(now),
        msg_id=msg.id,
        timestamp=int(now.timestamp()),
        body=body,
    )
    headers.update(signed)
    if raw:
        # Receivers written for Svix read svix-*; the values are the same signature.
        headers.update({SVIX_NAMES[k]: v for k, v in signed.items() if k in SVIX_NAMES})
    return body, headers
