# ruff: noqa: RUF001 - look-alike characters are what these tests are about
"""At send time, through the real connector: no URL form reaches a receiver on 127.0.0.1
unless the egress rules allow it, and the canonical forms do once 127.0.0.0/8 is allowed.

The connector is tested on its own as well (no URL check in front), because it is the
line that cannot be bypassed: it judges the address each socket connects to.
"""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest

from hookline.domain import egress
from hookline.domain.dispatch import ErrorClass
from hookline.domain.models import Dispatch, Trigger
from hookline.domain.signing import generate_secret
from hookline.runtime.egress import egress_connector, is_blocked
from hookline.runtime.sender import Sender
from hookline.runtime.upstream import Upstream
from tests.support.factories import make_endpoint, make_message
from tests.support.receiver import Receiver
from tests.support.url_forms import FORMS, OK

LOCAL = [f for f in FORMS if f.local]
LOOPBACK = egress.parse_networks(["127.0.0.0/8"])


def _dispatch(url: str) -> Dispatch:
    return Dispatch(
        delivery_id="dlv_1",
        attempts=0,
        trigger=Trigger.SCHEDULED,
        message=make_message(created_at=datetime.now(UTC)),
        endpoint=make_endpoint(url=url, secret=generate_secret()),
    )


async def test_no_form_reaches_the_receiver_without_an_allow_list(receiver: Receiver) -> None:
    sender = Sender(allow=(), timeout=2, max_connections=4)
    upstream = Upstream(allow=(), max_connections=4)
    await sender.start()
    await upstream.start()
    try:
        for form in LOCAL:
            url = form.url(receiver.port)
            sent = await sender.send(_dispatch(url), datetime.now(UTC))
            assert sent.error in (ErrorClass.EGRESS_BLOCKED, ErrorClass.INVALID_URL), (url, sent)
            assert sent.status_code is None
            answer = await upstream.request("POST", url, params=None, body={}, headers={})
            assert answer.error in ("egress_blocked", "invalid_url"), (url, answer)
            assert answer.final_failure
    finally:
        await sender.close()
        await upstream.close()
    assert receiver.received == []


async def test_the_connector_alone_refuses_every_local_address(receiver: Receiver) -> None:
    """Without the URL check in front, whatever the client makes of a form, the socket
    is never opened to a local address."""
    async with aiohttp.ClientSession(connector=egress_connector(())) as session:
        for form in LOCAL:
            url = form.url(receiver.port)
            with pytest.raises((aiohttp.ClientError, ValueError)) as raised:
                async with session.get(url, allow_redirects=False) as resp:
                    pytest.fail(f"{url} was reached: {resp.status}")
            failure = raised.value
            if isinstance(failure, aiohttp.ClientConnectorError):
                # Blocked, or a name that does not resolve at all.
                dns = isinstance(failure, aiohttp.ClientConnectorDNSError)
                assert dns or is_blocked(failure), (url, failure)
    assert receiver.received == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://[::ffff:7f00:1]:{port}/",
        # What the URL check refuses, the connector judges by the address it reaches.
        "http://１２７.０.０.１:{port}/",
    ],
)
async def test_the_connector_alone_refuses_literals_of_loopback(
    receiver: Receiver, url: str
) -> None:
    async with aiohttp.ClientSession(connector=egress_connector(())) as session:
        with pytest.raises(aiohttp.ClientConnectorError) as raised:
            await session.get(url.replace("{port}", str(receiver.port)))
    assert is_blocked(raised.value)
    assert receiver.received == []


async def test_with_loopback_allowed_the_canonical_forms_reach_and_no_other(
    receiver: Receiver,
) -> None:
    sender = Sender(allow=LOOPBACK, timeout=2, max_connections=4)
    await sender.start()
    reached = 0
    try:
        for form in LOCAL:
            if form.with_loopback == OK and not form.reaches:
                continue  # allowed, but nothing listens there
            before = len(receiver.received)
            sent = await sender.send(_dispatch(form.url(receiver.port)), datetime.now(UTC))
            if form.with_loopback == OK:
                assert sent.error is None, (form, sent)
                assert sent.status_code == 200
                reached += 1
                assert len(receiver.received) == before + 1
            else:
                assert sent.error in (ErrorClass.EGRESS_BLOCKED, ErrorClass.INVALID_URL), form
                assert len(receiver.received) == before, form
    finally:
        await sender.close()
    assert reached == sum(1 for f in LOCAL if f.reaches)


async def test_the_upstream_client_reaches_an_allowed_canonical_form(receiver: Receiver) -> None:
    upstream = Upstream(allow=LOOPBACK, max_connections=4)
    await upstream.start()
    try:
        answer = await upstream.request(
            "POST", f"http://[::ffff:127.0.0.1]:{receiver.port}/x", params=None, body={}, headers={}
        )
        refused = await upstream.request(
            "POST", f"http://127.1:{receiver.port}/x", params=None, body={}, headers={}
        )
    finally:
        await upstream.close()
    assert answer.status_code == 200
    assert refused.error == "invalid_url"
    assert len(receiver.received) == 1
