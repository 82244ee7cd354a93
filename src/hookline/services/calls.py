"""Calling an API through Hookline (the consumer's side) and the upstream's callbacks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from hookline.domain import calls as rules
from hookline.domain import egress
from hookline.domain.gateway import Call, CallStatus, Outcome
from hookline.domain.ids import is_valid_id
from hookline.domain.keys import hash_api_key
from hookline.domain.models import Delivery, Page
from hookline.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PaymentRequired,
    QuotaExceeded,
)
from hookline.services.common import Context
from hookline.store.call_events import STATUS, CallEvent, CallEventRepository
from hookline.store.calls import CallRepository

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
MAX_PATH = 2048
MAX_URL = 2048
MAX_IDEMPOTENCY_KEY = 255
# A waiting request re-reads its call this often even without a wake-up, so a change made
# where no wake-up reaches (another process on SQLite) is seen within this time.
WAIT_RECHECK = 2.0


class CallWatcher(Protocol):
    """Per-call wake-ups (see ``runtime.wakeup.CallWatch``)."""

    def changed(self, call_id: str) -> None: ...

    def watching(self, call_id: str) -> AbstractContextManager[asyncio.Event]: ...


class CallSignals(Protocol):
    """What a gateway runner in this process wants to hear about."""

    def queued(self) -> None: ...

    def ended(self, call_id: str) -> None: ...


class RunnerLink:
    """Reaches this process's gateway runner once one is started; silent before."""

    def __init__(self) -> None:
        self.target: CallSignals | None = None

    def queued(self) -> None:
        if self.target is not None:
            self.target.queued()

    def ended(self, call_id: str) -> None:
        if self.target is not None:
            self.target.ended(call_id)


@dataclass(frozen=True, slots=True)
class CallRequest:
    api_id: str
    method: str = "POST"
    path: str = ""
    params: Any = None
    body: Any = None
    webhook_url: str | None = None
    idempotency_key: str | None = None
    timeout: float | None = None
    test: bool = False
    progress: bool = False
    cancel_after: str | float | None = None  # "5m", "30s" or seconds
    webhook_events: list[str] | None = None


@dataclass(frozen=True, slots=True)
class CallDetail:
    call: Call
    deliveries: list[tuple[str, Delivery]]
    queue_position: int | None = None


class CallService:
    def __init__(
        self,
        repo: CallRepository,
        ctx: Context,
        runner: RunnerLink,
        allow: tuple[egress.IPNetwork, ...],
        *,
        watch: CallWatcher,
        events: CallEventRepository,
        progress_interval: float = 0.0,
    ) -> None:
        self.repo = repo
        self.ctx = ctx
        self.runner = runner
        self.allow = allow
        self.watch = watch
        self.events = events
        self.progress_interval = progress_interval

    async def call(
        self, consumer_id: str, req: CallRequest, callback_base: str
    ) -> tuple[Call, bool]:
        """Queue a call, reserving its price. Returns the call and whether it is new
        (False: the idempotency key named an earlier call, which is returned)."""
        params, webhook_url = req.params, req.webhook_url
        if isinstance(params, dict) and "webhook_url" in params:
            # Some clients put it among the parameters; it is Hookline's, not the upstream's.
            params = dict(params)
            inner = params.pop("webhook_url")
            if not isinstance(inner, str):
                raise InvalidInput("params.webhook_url must be a string", code="invalid_url")
            webhook_url = webhook_url if webhook_url is not None else inner
        if params is not None and req.body is not None:
            raise InvalidInput("give params or body, not both", code="invalid_call")
        if not is_valid_id(req.api_id, "api"):
            raise NotFound("api")
        method = req.method.upper()
        if method not in METHODS:
            raise InvalidInput(f"method must be one of {sorted(METHODS)}", code="invalid_method")
        if req.timeout is not None and req.timeout <= 0:
            raise InvalidInput("timeout must be more than 0 seconds", code="invalid_timeout")
        key = req.idempotency_key
        if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
            raise InvalidInput(
                f"idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
                code="invalid_idempotency_key",
            )
        events = rules.webhook_events(req.webhook_events, progress=req.progress)
        if events is None:
            raise InvalidInput(
                f"webhook_events may hold only {list(rules.WEBHOOK_EVENTS)}",
                code="invalid_webhook_events",
            )
        cancel_after = None
        if req.cancel_after is not None:
            cancel_after = rules.parse_duration(req.cancel_after)
            if cancel_after is None or cancel_after > rules.MAX_CANCEL_AFTER:
                raise InvalidInput(
                    "cancel_after must be a duration such as 30s, 5m or 2h (at most 7 days)",
                    code="invalid_cancel_after",
                )
        now = self.ctx.now()
        call = Call(
            id=self.ctx.new_id("call"),
            consumer_id=consumer_id,
            api_id=req.api_id,
            owner_id="",
            method=method,
            path=_path(req.path),
            params=params,
            body=req.body,
            webhook_url=self._webhook_url(webhook_url) if webhook_url is not None else None,
            endpoint_id=None,
            progress_updates="progress" in events,
            webhook_events=events,
            cancel_at=now + timedelta(seconds=cancel_after) if cancel_after else None,
            idempotency_key=key,
            test=req.test,
            price=0,
            cost=0,
            timeout=0.0,
            status=CallStatus.QUEUED,
            attempts=0,
            deadline=None,
            callback_base=callback_base.rstrip("/"),
            progress=None,
            result_status_code=None,
            result_body=None,
            error=None,
            error_detail=None,
            created_at=now,
            started_at=None,
            completed_at=None,
            updated_at=now,
        )
        accepted = await self.repo.accept(call, requested_timeout=req.timeout)
        if accepted.refusal == "api_not_found":
            raise NotFound("api")
        if accepted.refusal == "api_paused":
            raise Conflict("the API is paused and takes no new calls", code="api_paused")
        if accepted.refusal == "insufficient_balance":
            raise PaymentRequired("the balance does not cover this API's price")
        if accepted.refusal == "test_calls_exhausted":
            raise QuotaExceeded(
                "this account has used all free test calls of this API",
                code="test_calls_exhausted",
            )
        assert accepted.call is not None
        if accepted.created:
            self.runner.queued()
            self.ctx.notifier.notify_calls()  # runners in other processes (PostgreSQL)
        return accepted.call, accepted.created

    async def get(self, consumer_id: str, call_id: str) -> CallDetail:
        call = await self.repo.get(consumer_id, call_id)
        if call is None:
            raise NotFound("call")
        position = None
        if call.status is CallStatus.QUEUED:
            position = await self.repo.queue_position(call)
        return CallDetail(call, await self.repo.deliveries_of(consumer_id, call_id), position)

    async def wait(self, consumer_id: str, call_id: str, seconds: float) -> Call:
        """The call once it has ended, or as it is after ``seconds``. While waiting
        this holds no database connection: it sleeps on the call's wake-up and re-reads
        the call when woken (or every WAIT_RECHECK seconds)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        with self.watch.watching(call_id) as changed:
            while True:
                changed.clear()
                call = await self.repo.get(consumer_id, call_id)
                if call is None:
                    raise NotFound("call")
                left = end - loop.time()
                if call.status.is_final or left <= 0:
                    return call
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), min(left, WAIT_RECHECK))

    async def stream(
        self, consumer_id: str, call_id: str, after: int
    ) -> AsyncIterator[tuple[CallEvent, Call | None] | None]:
        """The call's events numbered above ``after`` as they happen, ending with the one
        that ends the call (given with the call, for its result). ``None`` items mean
        nothing happened for a while (a chance to keep the connection alive). Call
        :meth:`get` first: this assumes the call exists and is the consumer's."""
        with self.watch.watching(call_id) as changed:
            while True:
                changed.clear()
                batch = await self.events.since(call_id, after)
                for event in batch:
                    after = event.seq
                    if event.kind == STATUS and CallStatus(event.status).is_final:
                        yield event, await self.repo.get(consumer_id, call_id)
                        return
                    yield event, None
                if batch:
                    continue
                try:
                    await asyncio.wait_for(changed.wait(), WAIT_RECHECK)
                except TimeoutError:
                    yield None

    async def list_page(
        self,
        consumer_id: str,
        *,
        status: CallStatus | None,
        api_id: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page[Call]:
        return await self.repo.list_page(
            consumer_id, status=status, api_id=api_id, cursor=cursor, limit=limit
        )

    async def cancel(self, consumer_id: str, call_id: str) -> Call:
        """Cancel a queued or running call; a held upstream request is aborted."""
        found = await self.repo.cancel(consumer_id, call_id, self.ctx.now())
        if found is None:
            raise NotFound("call")
        call, cancelled = found
        if not cancelled:
            raise Conflict(
                f"the call has already ended ({call.status.value})", code="call_finished"
            )
        self.runner.ended(call_id)
        self.watch.changed(call_id)
        if call.endpoint_id is not None:
            self.ctx.notifier.notify()
        return call

    async def callback(self, call_id: str, token: str, doc: dict[str, Any]) -> Call:
        """An upstream reports on a ``callback``-mode call: ``{"progress": …}`` for an
        update, otherwise the result (``status_code``, ``body``, optional ``error``)."""
        token_hash = hash_api_key(token)
        now = self.ctx.now()
        if set(doc) == {"progress"}:
            answer = await self.repo.record_progress(
                call_id, token_hash, doc["progress"], now, interval=self.progress_interval
            )
        else:
            answer = await self.repo.complete_by_callback(call_id, token_hash, _result(doc), now)
        if answer.call is None:
            raise NotFound("call")
        if not answer.accepted:
            raise Conflict(
                f"the call has already ended ({answer.call.status.value})",
                code="call_cancelled"
                if answer.call.status is CallStatus.CANCELLED
                else "call_finished",
            )
        self.watch.changed(call_id)
        if answer.call.endpoint_id is not None:
            self.ctx.notifier.notify()
        if answer.call.status.is_final:
            self.runner.ended(call_id)
        return answer.call

    def _webhook_url(self, url: str) -> str:
        url = url.strip()
        if len(url) > MAX_URL:
            raise InvalidInput(f"webhook_url is longer than {MAX_URL}", code="invalid_url")
        problem = egress.url_problem(url, self.allow)
        if problem is not None:
            code, reason = problem
            raise InvalidInput(f"webhook_url: {reason}", code=code)
        return url


def _path(path: str) -> str:
    """A path under the API's upstream URL; it may not leave it."""
    if len(path) > MAX_PATH:
        raise InvalidInput(f"path is longer than {MAX_PATH}", code="invalid_path")
    if path and not path.startswith("/"):
        path = "/" + path
    if path.startswith("//") or "\\" in path or any(p == ".." for p in path.split("/")):
        raise InvalidInput("path must stay under the API's URL", code="invalid_path")
    if any(ord(c) < 0x21 for c in path) or "#" in path:
        raise InvalidInput("path has characters that are not allowed", code="invalid_path")
    return path


def _result(doc: dict[str, Any]) -> Outcome:
    allowed = {"status_code", "body", "error", "status"}
    unknown = set(doc) - allowed
    if unknown:
        raise InvalidInput(
            f"unknown fields {sorted(unknown)}; send status_code, body, error "
            "(or progress alone for an update)",
            code="invalid_callback",
        )
    code = doc.get("status_code", 200)
    if not isinstance(code, int) or isinstance(code, bool) or not 100 <= code <= 599:
        raise InvalidInput("status_code must be an HTTP status", code="invalid_callback")
    error = doc.get("error")
    if error is not None and not isinstance(error, str):
        raise InvalidInput("error must be a string", code="invalid_callback")
    status = doc.get("status")
    if status not in (None, "succeeded", "failed"):
        raise InvalidInput("status must be succeeded or failed", code="invalid_callback")
    if error is not None or status == "failed":
        return Outcome(
            CallStatus.FAILED,
            code,
            doc.get("body"),
            "upstream_error",
            error or "the upstream reported a failure",
        )
    return rules.outcome_of_response(code, doc.get("body"))
