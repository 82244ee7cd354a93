"""``hookline worker`` serves /metrics and /health on its own port: scraped for real."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.ports import free_port
from tests.support.processes import Cluster, new_account
from tests.support.receiver import Receiver, Reply


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


@pytest.fixture
async def processes(database_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    c = Cluster(database_url, tmp_path, backlog_interval=0.2, poll_interval=0.05)
    yield c
    await c.stop()


async def test_worker_metrics_port(processes: Cluster, make_receiver) -> None:  # type: ignore[no-untyped-def]
    ok: Receiver = await make_receiver()
    failing: Receiver = await make_receiver(lambda _r, _n: Reply(500))
    api = await processes.api()
    worker = await processes.worker(metrics_port=free_port())
    assert worker.metrics_url
    acme = await new_account(api)
    good = (await acme.post("/v1/webhooks", json={"callback_url": ok.url})).json()
    bad = (
        await acme.post(
            "/v1/webhooks", json={"callback_url": failing.url, "retry_policy": {"schedule": [60]}}
        )
    ).json()
    for n in range(3):
        assert (
            await acme.post("/v1/events", json={"type": "a", "data": {"n": n}})
        ).status_code == 202
    await ok.wait_for(3)
    await failing.wait_for(3)
    # Its retries (due in a minute) are now held back: kept, not sent.
    r = await acme.patch(f"/v1/webhooks/{bad['webhook_id']}", json={"active": False})
    assert r.status_code == 200, r.text

    async with httpx.AsyncClient(base_url=worker.metrics_url, timeout=10) as scrape:
        health = await scrape.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while True:
            page = await scrape.get("/metrics")
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/plain")
            found = samples(page.text)
            failures = found.get(
                ("hookline_webhook_failed_attempts_total", (("webhook", bad["webhook_id"]),)), 0
            )
            settled = (
                found.get(("hookline_publish_to_success_seconds_count", ()), 0) >= 3
                and failures >= 3
                and found.get(("hookline_backlog_pending_deliveries", ()), -1) == 0
                and found.get(("hookline_backlog_held_deliveries", ()), 0) == 3
            )
            if settled or loop.time() > deadline:
                break
            await asyncio.sleep(0.1)
    assert settled, "\n".join(f"{k} {v}" for k, v in found.items() if "bucket" not in k[0])
    assert found[("hookline_publish_to_first_attempt_seconds_count", ())] == 6
    assert found[("hookline_backlog_oldest_due_seconds", ())] == 0
    assert (
        "hookline_webhook_failed_attempts_total",
        (("webhook", good["webhook_id"]),),
    ) not in found
    assert found[("hookline_attempts_total", (("error", ""), ("outcome", "success")))] == 3
    await acme.aclose()
