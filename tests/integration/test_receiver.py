"""The receiver library verifies what Hookline really sends."""

from __future__ import annotations

import time

import pytest

from hookline.receiver import InvalidSignature, verify
from tests.support.receiver import Receiver
from tests.support.server import Running


async def test_verifies_both_schemes_and_refuses_tampering(
    hookline: Running, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    std_rx: Receiver = await make_receiver()
    hex_rx: Receiver = await make_receiver()
    acme = await hookline.new_account()
    std = (await acme.post("/v1/webhooks", json={"callback_url": std_rx.url})).json()
    hexed = (
        await acme.post(
            "/v1/webhooks",
            json={
                "callback_url": hex_rx.url,
                "secret": "s" * 32,
                "signature": {"scheme": "sha256-hex", "header": "X-Sig"},
            },
        )
    ).json()
    await acme.post("/v1/events", json={"type": "a", "data": {"n": 1}})
    (s,) = await std_rx.wait_for(1)
    (h,) = await hex_rx.wait_for(1)

    assert verify(std["secret"], s.body, s.headers)["data"] == {"n": 1}
    assert verify(hexed["secret"], h.body, h.headers, header="X-Sig")["data"] == {"n": 1}
    with pytest.raises(InvalidSignature):
        verify(std["secret"], s.body.replace(b'"n":1', b'"n":2'), s.headers)
    with pytest.raises(InvalidSignature):
        verify(hexed["secret"], h.body + b" ", h.headers, header="X-Sig")
    with pytest.raises(InvalidSignature):
        verify(std["secret"], s.body, s.headers, now=time.time() + 3600)
    with pytest.raises(InvalidSignature):
        verify(hexed["secret"], s.body, s.headers)  # wrong secret for the standard scheme
    await acme.aclose()
