"""The sender connects only where the egress rules allow, checked at connect time."""

from __future__ import annotations

from datetime import UTC, datetime

from hookline.domain import egress
from hookline.domain.dispatch import ErrorClass
from hookline.domain.models import Dispatch, Trigger
from hookline.domain.signing import generate_secret
from hookline.runtime.sender import Sender
from tests.support.factories import make_endpoint, make_message
from tests.support.receiver import Receiver


def _dispatch(url: str) -> Dispatch:
    return Dispatch(
        delivery_id="dlv_1",
        attempts=0,
        trigger=Trigger.SCHEDULED,
        message=make_message(created_at=datetime.now(UTC)),
        endpoint=make_endpoint(url=url, secret=generate_secret()),
    )


async def _send(allow: str, url: str) -> str | None:
    sender = Sender(
        allow=egress.parse_networks([allow] if allow else []), timeout=2, max_connections=4
    )
    await sender.start()
    try:
        return (await sender.send(_dispatch(url), datetime.now(UTC))).error
    finally:
        await sender.close()


async def test_a_name_resolving_to_loopback_is_refused(receiver: Receiver) -> None:
    assert await _send("", f"http://localhost:{receiver.port}/") == ErrorClass.EGRESS_BLOCKED
    assert await _send("", f"http://127.0.0.1:{receiver.port}/") == ErrorClass.EGRESS_BLOCKED
    assert await _send("10.0.0.0/8", f"http://localhost:{receiver.port}/") == (
        ErrorClass.EGRESS_BLOCKED
    )
    assert receiver.received == []


async def test_allowed_networks_are_reached(receiver: Receiver) -> None:
    assert await _send("127.0.0.0/8", f"http://localhost:{receiver.port}/") is None
    assert await _send("127.0.0.1/32", f"http://127.0.0.1:{receiver.port}/") is None
    assert len(receiver.received) == 2
