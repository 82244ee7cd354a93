"""The stream ``hookline listen`` reads a listen webhook's deliveries from, and the
route it reports each local outcome to."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from hookline.api import shapes
from hookline.api.deps import AccountDep, SystemDep
from hookline.api.openapi import errors
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON
from hookline.api.schemas import ListenReport
from hookline.errors import HooklineError
from hookline.services.listening import ListenService, Report
from hookline.system import System

router = APIRouter(route_class=GuardedRoute, prefix="/v1", tags=["listen"])

# A comment line this often keeps proxies from closing an idle stream, and lets the
# client tell a quiet stream from a dead one.
KEEPALIVE_SECONDS = 5.0


def _event(kind: str, doc: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(doc) + b"\n\n"


@router.get(
    "/webhooks/{webhook_id}/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "server-sent events: ready, then delivery",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **errors(409),
    },
)
async def stream(
    webhook_id: str, request: Request, account: AccountDep, sys: SystemDep
) -> StreamingResponse:
    """Server-sent events: ``ready`` (the session id), then one ``delivery`` per due
    delivery of this listen webhook, each leased to the session until it is reported on
    (``POST /v1/deliveries/{id}/report``) or the stream closes."""
    listening = sys.listening
    await listening.listen_endpoint(account, webhook_id)
    session = listening.new_session()
    return StreamingResponse(
        _events(listening, sys, request, webhook_id, session),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    listening: ListenService, sys: System, request: Request, webhook_id: str, session: str
) -> AsyncIterator[bytes]:
    sent: list[str] = []
    loop = asyncio.get_running_loop()
    try:
        yield _event("ready", {"session": session, "webhook_id": webhook_id})
        quiet_since = loop.time()
        while not await request.is_disconnected():
            try:
                batch = await listening.claim(session, webhook_id)
            except HooklineError:
                batch = []  # the database is away: say nothing, try again shortly
            for item in batch:
                sent.append(item["delivery_id"])
                yield _event("delivery", item | {"session": session})
            if batch:
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= KEEPALIVE_SECONDS:
                quiet_since = loop.time()
                yield b": keepalive\n\n"
            await asyncio.sleep(sys.settings.poll_interval if not batch else 0)
    finally:
        # Whatever this session still holds goes back at once, due now.
        with anyio.CancelScope(shield=True), contextlib.suppress(HooklineError):
            await listening.release(session, sent)


@router.post(
    "/deliveries/{delivery_id}/report",
    response_class=JSON,
    response_model=shapes.ListenReported,
    responses=errors(409),
)
async def report(delivery_id: str, body: ListenReport, account: AccountDep, sys: SystemDep) -> Any:
    """The local outcome of a streamed delivery: recorded as an attempt, then success,
    or a retry on the webhook's policy."""
    status = await sys.listening.report(
        account,
        body.session,
        delivery_id,
        Report(
            status_code=body.status_code,
            response_body=body.response_body,
            duration_ms=body.duration_ms,
            error=body.error,
            error_detail=body.error_detail,
        ),
    )
    return JSON({"delivery_id": delivery_id, "status": status.value})
