"""Work is picked up when it is due, not at the next poll."""

from __future__ import annotations

from tests.support.receiver import Reply


async def test_publish_wakes_the_worker(make_hookline, receiver) -> None:  # type: ignore[no-untyped-def]
    running = await make_hookline(poll_interval=60)
    acme = await running.new_account()
    await acme.post("/v1/webhooks", json={"callback_url": receiver.url})
    await receiver.quiet(0.2)  # the worker is now asleep in a 60 s poll
    await acme.post("/v1/events", json={"type": "a", "data": {}})
    await receiver.wait_for(1, timeout=5)
    await acme.aclose()


async def test_a_retry_is_sent_when_due_without_waiting_for_the_poll(
    make_hookline, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    running = await make_hookline(poll_interval=60)
    rx = await make_receiver(lambda _r, n: Reply(500) if n == 0 else Reply(200))
    acme = await running.new_account()
    await acme.post(
        "/v1/webhooks", json={"callback_url": rx.url, "retry_policy": {"schedule": [0.5]}}
    )
    await acme.post("/v1/events", json={"type": "a", "data": {}})
    await rx.wait_for(2, timeout=5)
    await acme.aclose()
