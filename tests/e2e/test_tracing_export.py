"""Tracing configured by the standard OTEL_* variables in a real ``hookline serve``."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import httpx

from tests.support.processes import hookline_env
from tests.support.receiver import Receiver
from tests.support.server import ADMIN_KEY

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_otel_variables_export_the_publish_and_attempt_spans(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    env = hookline_env(database_url, tmp_path) | {
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_SERVICE_NAME": "hookline-under-test",
    }
    out = tmp_path / "stdout"
    with out.open("wb") as sink:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hookline", "serve", env=env, stdout=sink, stderr=sink
        )
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not (found := re.search(r"listening on (http://\S+)", out.read_text())):
            assert proc.returncode is None, out.read_text()
            assert loop.time() < deadline, out.read_text()
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=found.group(1), timeout=10) as http:
            admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
            key = (await http.post("/v1/accounts", json={"name": "a"}, headers=admin)).json()
            auth = {"Authorization": f"Bearer {key['api_key']['key']}"}
            await http.post("/v1/webhooks", json={"callback_url": receiver.url}, headers=auth)
            r = await http.post(
                "/v1/events", json={"type": "a"}, headers=auth | {"traceparent": CALLER}
            )
            event = r.json()["event_id"]
            await receiver.wait_for(1)
            await asyncio.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    text = out.read_text()
    # Flushed at exit: the publish span and the attempt span, in the caller's trace.
    assert '"name": "POST /v1/events"' in text
    assert '"name": "hookline deliver"' in text
    assert f'"hookline.event_id": "{event}"' in text
    assert text.count('"trace_id": "0x4bf92f3577b34da6a3ce929d0e0e4736"') >= 2
    assert '"service.name": "hookline-under-test"' in text
