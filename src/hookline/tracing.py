"""Optional OpenTelemetry tracing (the ``hookline[otel]`` extra).

A publish request is a server span; the trace context of the publish is stored with
each message (``messages.trace_context``), so each delivery attempt, made later by any
worker process, is a client span in the same trace, with a link to the publish span and
the event id as an attribute. Webhooks that opt in (``send_traceparent``) get the W3C
``traceparent`` of their attempt, so the receiver's own spans join the trace.

Tracing is on when the SDK is installed and the standard ``OTEL_*`` variables ask for an
exporter (see :func:`configure_from_env`). Without the SDK everything works as before; a
``traceparent`` the publisher sent is still stored and passed on to opted-in receivers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger("hookline.tracing")

TRACEPARENT = "traceparent"
_VALID = re.compile(r"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")
_propagator = TraceContextTextMapPropagator()
# The traceparent a caller sent, for when no span of ours is recording.
_incoming: ContextVar[str | None] = ContextVar("hookline_incoming_traceparent", default=None)
_tracer: trace.Tracer | None = None


def configure_from_env() -> Callable[[], None] | None:
    """Turn tracing on as the ``OTEL_*`` variables say; returns the flush-and-stop function.

    On when ``OTEL_TRACES_EXPORTER`` names exporters (``otlp``, ``console``), or when an
    OTLP endpoint is set (``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``…_TRACES_ENDPOINT``); off
    when ``OTEL_SDK_DISABLED=true`` or the exporter is ``none``. The OTLP exporter
    (HTTP/protobuf) reads its endpoint, headers and timeouts from the same variables,
    and the sampler follows ``OTEL_TRACES_SAMPLER``.
    """
    env = os.environ
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    endpoint_set = any(
        env.get(v) for v in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    names = env.get("OTEL_TRACES_EXPORTER", "otlp" if endpoint_set else "none")
    wanted = [n.strip() for n in names.split(",") if n.strip() and n.strip() != "none"]
    if not wanted:
        return None
    try:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError:
        log.warning("OTEL_* asks for traces but hookline[otel] is not installed; tracing is off")
        return None
    attributes = {} if env.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: "hookline"}
    provider = TracerProvider(resource=Resource.create(attributes))
    for name in wanted:
        if name == "otlp":
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter,
                )
            except ImportError:
                log.warning("the OTLP exporter is not installed (pip install 'hookline[otel]')")
                continue
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        else:
            log.warning("unknown OTEL_TRACES_EXPORTER %r ignored", name)
    use_provider(provider)
    return provider.shutdown


def use_provider(provider: trace.TracerProvider | None) -> None:
    """Trace with ``provider`` from now on, or not at all with None (tests hand in one
    with an in-memory exporter)."""
    global _tracer
    _tracer = provider.get_tracer("hookline") if provider is not None else None


def enabled() -> bool:
    return _tracer is not None


def valid_traceparent(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value if _VALID.fullmatch(value) else None


@contextlib.contextmanager
def server_span(method: str, path: str, headers: Mapping[str, str]) -> Iterator[Any]:
    """The span of one HTTP request, continuing the caller's trace if it sent one."""
    incoming = valid_traceparent(headers.get(TRACEPARENT))
    token = _incoming.set(incoming)
    try:
        if _tracer is None:
            yield None
            return
        parent = _propagator.extract({TRACEPARENT: incoming} if incoming else {})
        with _tracer.start_as_current_span(
            f"{method} {path}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        ) as span:
            yield span
    finally:
        _incoming.reset(token)


def current_traceparent() -> str | None:
    """The context to store with a message published now."""
    span = trace.get_current_span()
    if _tracer is not None and span.get_span_context().is_valid:
        carrier: dict[str, str] = {}
        _propagator.inject(carrier)
        return carrier.get(TRACEPARENT)
    return _incoming.get()


def annotate(**attributes: Any) -> None:
    """Set attributes on the current span, if one is recording."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(attributes)


class Attempt:
    """One delivery attempt's span (or nothing, when tracing is off)."""

    def __init__(self, span: trace.Span | None, stored: str | None) -> None:
        self.span = span
        self._stored = stored

    def traceparent(self) -> str | None:
        """The header value for the receiver: this attempt's span, else the stored one."""
        if self.span is None:
            return self._stored
        carrier: dict[str, str] = {}
        _propagator.inject(carrier, context=trace.set_span_in_context(self.span))
        return carrier.get(TRACEPARENT) or self._stored

    def finish(self, *, status_code: int | None, error: str | None, detail: str | None) -> None:
        if self.span is None:
            return
        if status_code is not None:
            self.span.set_attribute("http.response.status_code", status_code)
        if error:
            self.span.set_attribute("error.type", error)
            self.span.set_status(Status(StatusCode.ERROR, detail or error))


@contextlib.contextmanager
def attempt_span(stored: str | None, attributes: Mapping[str, Any]) -> Iterator[Attempt]:
    """A span for one delivery attempt: a child of the publish (same trace) linked to it."""
    if _tracer is None:
        yield Attempt(None, stored)
        return
    parent = _propagator.extract({TRACEPARENT: stored} if stored else {})
    publish = trace.get_current_span(parent).get_span_context()
    links = [Link(publish, {"hookline.link": "publish"})] if publish.is_valid else []
    with _tracer.start_as_current_span(
        "hookline deliver",
        context=parent,
        kind=SpanKind.CLIENT,
        links=links,
        attributes=dict(attributes),
    ) as span:
        yield Attempt(span, stored)
