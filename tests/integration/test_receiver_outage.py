"""A receiver that is down, then failing, then back gets everything, on the policy's
schedule."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime

from tests.support.receiver import Receiver, Reply
from tests.support.server import Running, settled

SCHEDULE = [0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]


async def test_receiver_down_then_failing_then_back_gets_everything(
    make_hookline,
    make_receiver,  # type: ignore[no-untyped-def]
) -> None:
    # Twenty failed attempts would open the circuit breaker (docs/delivery-control.md)
    # and pause the webhook for its cool-down; this test is about the retry schedule.
    running: Running = await make_hookline(circuit_min_attempts=0)
    probe = await make_receiver()
    port = probe.port
    await probe.stop()  # nothing listens there now: connection refused

    acme = await running.new_account()
    r = await acme.post(
        "/v1/webhooks",
        json={"callback_url": f"http://127.0.0.1:{port}/", "retry_policy": {"schedule": SCHEDULE}},
    )
    assert r.status_code == 201, r.text
    ids = []
    for i in range(5):
        ev = await acme.post("/v1/events", json={"type": "a", "data": {"n": i}})
        assert ev.status_code == 202
        ids.append(ev.json()["event_id"])
    await asyncio.sleep(1.5)

    # Back, but answering 503 to the first few requests; then healthy.
    back = Receiver(lambda _r, n: Reply(503, "busy") if n < 5 else Reply(200))
    await back.start(port)
    try:
        await back.wait_for(5 + len(ids), timeout=20)
        for event_id in ids:
            detail = await settled(acme, event_id)
            (delivery,) = detail["deliveries"]
            assert delivery["status"] == "succeeded"
            attempts = delivery["attempts"]
            assert attempts[0]["error"] == "connection_error"
            assert attempts[-1]["status_code"] == 200
            assert len(attempts) <= len(SCHEDULE) + 1
            _follows_schedule(attempts)
        # After the five 503s, each event arrived once, with its own webhook-id.
        assert sorted(r.headers["webhook-id"] for r in back.received[5:]) == sorted(ids)
    finally:
        await back.stop()
        await acme.aclose()


def _follows_schedule(attempts: list[dict]) -> None:  # type: ignore[type-arg]
    """Each retry started no sooner than the policy's delay after the attempt before it
    ended. How much later depends on how busy the machine is, so that is not asserted:
    every event arriving within the test's wait is what shows no retry was lost."""
    for n, (before, after) in enumerate(itertools.pairwise(attempts)):
        start = datetime.fromisoformat(before["created_at"])
        ended = (start.timestamp() * 1000 + before["duration_ms"]) / 1000
        waited = datetime.fromisoformat(after["created_at"]).timestamp() - ended
        assert SCHEDULE[n] - 0.05 <= waited, (n, waited, attempts)
