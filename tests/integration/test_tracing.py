"""Tracing from the publish request through each delivery attempt, with the SDK's
in-memory exporter, and the traceparent opted-in receivers get."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from hookline import tracing
from tests.support.receiver import Receiver
from tests.support.server import Running, settled

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
CALLER = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_provider(provider)
    yield exporter
    tracing.use_provider(None)
    provider.shutdown()


def _hex(n: int, width: int) -> str:
    return format(n, f"0{width}x")


async def test_a_trace_runs_from_the_publish_through_each_attempt(
    hookline: Running, make_receiver, spans: InMemorySpanExporter
) -> None:  # type: ignore[no-untyped-def]
    opted: Receiver = await make_receiver()
    plain: Receiver = await make_receiver()
    acme = await hookline.new_account()
    hook = await acme.post(
        "/v1/webhooks", json={"callback_url": opted.url, "send_traceparent": True}
    )
    assert hook.json()["send_traceparent"] is True
    await acme.post("/v1/webhooks", json={"callback_url": plain.url})
    r = await acme.post("/v1/events", json={"type": "a"}, headers={"traceparent": CALLER})
    event = r.json()["event_id"]
    await settled(acme, event)
    (got,) = await opted.wait_for(1)
    (other,) = await plain.wait_for(1)
    assert "traceparent" not in {k.lower() for k in other.headers}

    finished: tuple[ReadableSpan, ...] = spans.get_finished_spans()
    (publish,) = [s for s in finished if s.name == "POST /v1/events"]
    assert publish.kind is SpanKind.SERVER
    assert _hex(publish.context.trace_id, 32) == CALLER_TRACE
    assert publish.parent is not None
    assert _hex(publish.parent.span_id, 16) == CALLER_SPAN
    assert publish.attributes is not None
    assert list(publish.attributes["hookline.event_id"]) == [event]  # type: ignore[arg-type]

    attempts = [s for s in finished if s.name == "hookline deliver"]
    assert len(attempts) == 2
    for attempt in attempts:
        assert attempt.kind is SpanKind.CLIENT
        assert attempt.context.trace_id == publish.context.trace_id
        assert attempt.parent is not None
        assert attempt.parent.span_id == publish.context.span_id
        assert [link.context.span_id for link in attempt.links] == [publish.context.span_id]
        assert attempt.attributes is not None
        assert attempt.attributes["hookline.event_id"] == event
        assert attempt.attributes["http.response.status_code"] == 200
    # The opted-in receiver continues the trace from its attempt's span.
    header = {k.lower(): v for k, v in got.headers.items()}["traceparent"]
    _version, trace_id, span_id, _flags = header.split("-")
    assert trace_id == CALLER_TRACE
    (its_attempt,) = [
        a
        for a in attempts
        if a.attributes is not None
        and a.attributes["hookline.webhook_id"] == hook.json()["webhook_id"]
    ]
    assert span_id == _hex(its_attempt.context.span_id, 16)


async def test_without_tracing_the_callers_traceparent_is_passed_on(
    hookline: Running, receiver: Receiver
) -> None:
    assert not tracing.enabled()
    acme = await hookline.new_account()
    await acme.post("/v1/webhooks", json={"callback_url": receiver.url, "send_traceparent": True})
    await acme.post("/v1/events", json={"type": "a"}, headers={"traceparent": CALLER})
    await acme.post("/v1/events", json={"type": "b"}, headers={"traceparent": "garbage"})
    by_type = {orjson.loads(r.body)["type"]: r for r in await receiver.wait_for(2)}
    first, second = by_type["a"], by_type["b"]
    assert {k.lower(): v for k, v in first.headers.items()}["traceparent"] == CALLER
    assert "traceparent" not in {k.lower() for k in second.headers}
