"""The backlog the metrics report, read from a real database of each backend."""

from __future__ import annotations

from datetime import timedelta

from hookline.runtime.backlog import BacklogSampler
from hookline.services.common import utc_now
from hookline.store.backlog import BacklogRepository
from tests.support.server import Running


async def test_backlog_counts_pending_held_and_the_oldest_due(make_hookline) -> None:  # type: ignore[no-untyped-def]
    running: Running = await make_hookline(worker=False)
    acme = await running.new_account()
    hooks = [
        (await acme.post("/v1/webhooks", json={"callback_url": f"http://127.0.0.1:9/{n}"})).json()
        for n in range(2)
    ]
    before = utc_now()
    for _ in range(2):
        assert (await acme.post("/v1/events", json={"type": "a"})).status_code == 202
    await acme.patch(f"/v1/webhooks/{hooks[1]['webhook_id']}", json={"active": False})
    repo = BacklogRepository(running.system.db)

    later = utc_now() + timedelta(seconds=30)
    backlog = await repo.sample(later)
    assert (backlog.pending, backlog.held) == (2, 2)
    assert backlog.oldest_due_at is not None
    assert before <= backlog.oldest_due_at <= utc_now()
    # Nothing is due yet at a time before the first publish.
    assert (await repo.sample(before - timedelta(seconds=1))).oldest_due_at is None

    metrics = running.system.metrics
    await BacklogSampler(repo, metrics, interval=1, clock=lambda: later).sample()
    value = metrics.registry.get_sample_value
    assert value("hookline_backlog_pending_deliveries") == 2
    assert value("hookline_backlog_held_deliveries") == 2
    assert 29 <= (value("hookline_backlog_oldest_due_seconds") or 0) <= 31
