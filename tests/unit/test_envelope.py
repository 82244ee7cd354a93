from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.domain.envelope import API_VERSION, event_body, format_time

CREATED = datetime(2026, 11, 22, 15, 4, 5, 123456, tzinfo=UTC)


def test_the_envelope_has_exactly_the_documented_shape() -> None:
    body = event_body(
        message_id="msg_01",
        event_type="invoice.paid",
        webhook_id="ep_01",
        idempotency_key="order-7",
        created_at=CREATED,
        payload_json='{"amount":100}',
    )
    assert body == (
        b'{"id":"msg_01","object":"event","type":"invoice.paid",'
        b'"api_version":"' + API_VERSION.encode() + b'","webhook_id":"ep_01",'
        b'"idempotency_key":"order-7","created_at":"2026-11-22T15:04:05.123Z",'
        b'"data":{"amount":100}}'
    )


def test_a_missing_idempotency_key_is_null() -> None:
    body = event_body(
        message_id="msg_01",
        event_type="a",
        webhook_id="ep_01",
        idempotency_key=None,
        created_at=CREATED,
        payload_json="null",
    )
    assert orjson.loads(body)["idempotency_key"] is None
    assert orjson.loads(body)["data"] is None


@pytest.mark.parametrize(
    "payload",
    [
        b'{"b": 1,  "a": [1.10, 2e3, "\\u00e9"]}',  # spacing, key order, number spelling
        b'"caf\xc3\xa9"',
        b"[]",
        b"12345678901234567890123",  # beyond 64-bit integers
    ],
)
def test_the_payload_bytes_are_embedded_unchanged(payload: bytes) -> None:
    body = event_body(
        message_id="msg_01",
        event_type="a",
        webhook_id="ep_01",
        idempotency_key=None,
        created_at=CREATED,
        payload_json=payload.decode(),  # as stored: the text of the JSON
    )
    assert body.endswith(b',"data":' + payload + b"}")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)


@given(json_values, st.text(min_size=1), st.none() | st.text())
def test_the_envelope_is_json_a_receiver_can_read_back(
    data: object, event_type: str, key: str | None
) -> None:
    body = event_body(
        message_id="msg_01",
        event_type=event_type,
        webhook_id="ep_01",
        idempotency_key=key,
        created_at=CREATED,
        payload_json=orjson.dumps(data).decode(),
    )
    assert orjson.loads(body) == {
        "id": "msg_01",
        "object": "event",
        "type": event_type,
        "api_version": API_VERSION,
        "webhook_id": "ep_01",
        "idempotency_key": key,
        "created_at": "2026-11-22T15:04:05.123Z",
        "data": data,
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (CREATED, "2026-11-22T15:04:05.123Z"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05.000Z"),
        (datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC), "2026-01-02T03:04:05.999Z"),
        (datetime(2026, 1, 2, 3, 4, 5, 999), "2026-01-02T03:04:05.000Z"),  # naive = UTC
    ],
)
def test_format_time(value: datetime, text: str) -> None:
    assert format_time(value) == text


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1)))
def test_format_time_reads_back_to_the_millisecond(value: datetime) -> None:
    value = value.replace(tzinfo=UTC)
    text = format_time(value)
    assert len(text) == len("2026-11-22T15:04:05.123Z")
    assert datetime.fromisoformat(text) == value.replace(
        microsecond=value.microsecond // 1000 * 1000
    )
