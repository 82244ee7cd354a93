"""Async API calls: 202 now, the result by webhook later; polling, cancelling, and the
route upstreams report to in ``callback`` mode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from hookline.api import shapes
from hookline.api.deps import AccountDep, Cursor, IdFilter, Limit, SystemDep
from hookline.api.gateway_responses import call_out
from hookline.api.gateway_schemas import CallCreate
from hookline.api.limits import parse_json
from hookline.api.openapi import errors
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON, page, ts
from hookline.domain import calls as rules
from hookline.domain.gateway import Call, CallStatus
from hookline.errors import InvalidInput
from hookline.services.calls import CallRequest
from hookline.store.call_events import CallEvent
from hookline.system import System

router = APIRouter(route_class=GuardedRoute, prefix="/v1", tags=["gateway"])
MAX_EVENT_ID = 2**31 - 1  # event numbers are 32-bit integers in the store


def base_url(request: Request, sys: System) -> str:
    """Where clients reach this server: the configured public URL, else this request's."""
    return sys.settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")


async def accept_call(
    request: Request,
    sys: System,
    account: str,
    req: CallRequest,
    *,
    prefer: str | None,
    extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> JSON:
    """The one path behind every shape of "call an API": queue the call, then, with
    ``Prefer: wait=N``, wait up to N seconds for it to end. The ended call answers 200;
    otherwise 202 with ``Location`` and ``Retry-After``. ``extra`` adds fields of a
    request shape (e.g. ``requestId``)."""
    base = base_url(request, sys)
    call, created = await sys.calls.call(account, req, base)
    if created:
        sys.metrics.calls_accepted.inc()
    wait = rules.prefer_wait(prefer)
    if wait is not None and not call.status.is_final:
        call = await sys.calls.wait(account, call.id, wait)
    out = call_out(call, base) | {"duplicate": not created}
    if extra is not None:
        out = extra(out)
    headers = {"Location": out["status_url"]}
    if wait is not None:
        headers["Preference-Applied"] = f"wait={wait:g}"
    if call.status.is_final:
        return JSON(out, status_code=200, headers=headers)
    return JSON(out, status_code=202, headers=headers | {"Retry-After": "1"})


# One event of the stream, as OpenAPI before 3.2 describes a text/event-stream: the
# event's fields, with its data a JSON document.
STREAM_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"enum": ["status", "progress", "end"]},
        "id": {"type": "string", "description": "the event's seq, for Last-Event-ID"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {
                "type": "object",
                "required": ["request_id", "seq", "status", "at"],
                "properties": {
                    "request_id": {"type": "string"},
                    "seq": {"type": "integer"},
                    "status": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"},
                    "progress": {"description": "progress events: the upstream's update"},
                    "error": {"description": "the error, when the call failed"},
                    "result": {"description": "end: the call's result, as in the call"},
                    "cost": {"type": "integer", "description": "end: what the call cost"},
                },
            },
        },
    },
}


def ended_within_wait(model: type[Any]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the 200 a call-making route answers when the call ends within
    ``Prefer: wait``; the route's own success status is the 202."""
    return {200: {"model": model, "description": "the call ended within Prefer: wait"}}


@router.post(
    "/calls",
    status_code=202,
    response_class=JSON,
    response_model=shapes.Call,
    responses=errors(402, 404, 409, 429) | ended_within_wait(shapes.Call),
)
async def create_call(
    body: CallCreate,
    request: Request,
    account: AccountDep,
    sys: SystemDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    prefer: Annotated[str | None, Header(max_length=200)] = None,
    cancel_after: Annotated[str | None, Header(max_length=32)] = None,
) -> Any:
    """Queue a call and answer at once (202), or with ``Prefer: wait=N`` once it ends
    (200) if that is within N seconds. The price is reserved now (402
    insufficient_balance if the balance cannot cover it)."""
    return await accept_call(
        request,
        sys,
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
            cancel_after=body.cancel_after if body.cancel_after is not None else cancel_after,
            webhook_events=body.webhook_events,
        ),
        prefer=prefer,
    )


@router.get("/calls", response_class=JSON, response_model=shapes.Page[shapes.Call])
async def list_calls(
    request: Request,
    account: AccountDep,
    sys: SystemDep,
    status: CallStatus | None = None,
    api_id: IdFilter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Any:
    p = await sys.calls.list_page(account, status=status, api_id=api_id, cursor=cursor, limit=limit)
    base = base_url(request, sys)
    return JSON(page([call_out(c, base) for c in p.items], p))


@router.get("/calls/{call_id}", response_class=JSON, response_model=shapes.Call)
async def get_call(
    call_id: str,
    request: Request,
    account: AccountDep,
    sys: SystemDep,
    wait: Annotated[float | None, Query(gt=0, le=rules.MAX_WAIT)] = None,
) -> Any:
    """The call's status, its result once it has one, and the webhooks sent for it.
    ``?wait=N`` long-polls: the answer comes when the call ends or N seconds pass."""
    if wait is not None:
        await sys.calls.wait(account, call_id, wait)
    detail = await sys.calls.get(account, call_id)
    return JSON(
        call_out(
            detail.call,
            base_url(request, sys),
            detail.deliveries,
            queue_position=detail.queue_position,
        )
    )


@router.get(
    "/calls/{call_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-sent events (text/event-stream), not JSON",
            "content": {"text/event-stream": {"schema": STREAM_EVENT}},
        }
    },
)
async def call_events(
    call_id: str,
    account: AccountDep,
    sys: SystemDep,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """Server-sent events: the call's status changes and progress as they happen, from
    the start (or after ``Last-Event-ID``), ending with the event that ends the call."""
    await sys.calls.get(account, call_id)  # 404 before the stream starts
    after = 0
    if last_event_id is not None:
        text = last_event_id.strip()
        if not text.isdigit() or int(text) > MAX_EVENT_ID:
            raise InvalidInput("Last-Event-ID must be an event number", code="invalid_event_id")
        after = int(text)
    return StreamingResponse(
        sse_frames(sys.calls.stream(account, call_id, after)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def sse_frames(
    items: AsyncIterator[tuple[CallEvent, Call | None] | None],
) -> AsyncIterator[bytes]:
    yield b"retry: 1000\n\n"
    async for item in items:
        if item is None:
            yield b": keep-alive\n\n"
            continue
        event, ended = item
        data: dict[str, Any] = {
            "request_id": event.call_id,
            "seq": event.seq,
            "status": event.status,
            "at": ts(event.created_at),
        }
        if event.kind == "progress":
            data["progress"] = event.data
        elif isinstance(event.data, dict) and event.data.get("error"):
            data["error"] = event.data["error"]
        if ended is not None:
            data["result"] = call_out(ended, "")["result"]
            data["cost"] = ended.cost
        name = event.kind if ended is None else "end"
        yield (f"id: {event.seq}\nevent: {name}\ndata: ".encode() + orjson.dumps(data) + b"\n\n")


@router.post(
    "/calls/{call_id}/cancel",
    response_class=JSON,
    response_model=shapes.Call,
    responses=errors(409),
)
async def cancel_call(call_id: str, request: Request, account: AccountDep, sys: SystemDep) -> Any:
    """Cancel a queued or running call (409 call_finished if it has ended)."""
    call = await sys.calls.cancel(account, call_id)
    sys.metrics.calls_finished.labels(call.status.value).inc()
    return JSON(call_out(call, base_url(request, sys)))


@router.post(
    "/callbacks/{call_id}/{token}",
    status_code=202,
    response_class=JSON,
    response_model=shapes.CallbackAccepted,
    responses=errors(409),
    # The body is read here, not by FastAPI, so it is declared by hand.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "description": "the result, or {progress} alone for an update",
                        "properties": {
                            "status_code": {"type": "integer", "minimum": 100, "maximum": 599},
                            "body": {},
                            "error": {"type": ["string", "null"]},
                            "status": {"enum": ["succeeded", "failed", None]},
                            "progress": {},
                        },
                        "additionalProperties": False,
                    }
                }
            },
        }
    },
)
async def upstream_callback(call_id: str, token: str, request: Request, sys: SystemDep) -> Any:
    """For upstreams: the URL sent in ``Hookline-Callback-Url`` (the token in it is the
    credential). ``{"progress": …}`` is an update; anything else is the result."""
    # Parsed here whatever its content type, so under the same limits as any JSON body.
    doc = parse_json(await request.body(), sys.settings.max_json_depth)
    if not isinstance(doc, dict):
        raise InvalidInput("the body must be a JSON object", code="invalid_callback")
    call = await sys.calls.callback(call_id, token, doc)
    if call.status.is_final:
        sys.metrics.calls_finished.labels(call.status.value).inc()
    return JSON({"request_id": call.id, "status": call.status.value}, status_code=202)
