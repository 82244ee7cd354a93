"""``HOOKLINE_LOG_FORMAT=json``: every line a real server writes to stderr is one JSON
object, carrying the ids of what it is about."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from pathlib import Path

import httpx

from tests.support.processes import hookline_env
from tests.support.receiver import Receiver, Reply
from tests.support.server import ADMIN_KEY


async def test_json_logs_carry_request_account_webhook_and_delivery_ids(
    database_url: str, tmp_path: Path, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    failing: Receiver = await make_receiver(lambda _r, _n: Reply(500))
    env = hookline_env(database_url, tmp_path, log_format="json", log_level="debug")
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as o, err.open("wb") as e:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hookline", "serve", env=env, stdout=o, stderr=e
        )
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not (found := re.search(r"listening on (http://\S+)", out.read_text())):
            assert proc.returncode is None, err.read_text()
            assert loop.time() < deadline, err.read_text()
            await asyncio.sleep(0.05)
        url = found.group(1)
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
            r = await http.post("/v1/accounts", json={"name": "acme"}, headers=admin)
            account, key = r.json()["account_id"], r.json()["api_key"]["key"]
            auth = {"Authorization": f"Bearer {key}"}
            hook = (
                await http.post(
                    "/v1/webhooks",
                    json={"callback_url": failing.url, "retry_policy": {"schedule": [0.05]}},
                    headers=auth,
                )
            ).json()
            published = await http.post(
                "/v1/events", json={"type": "a"}, headers=auth | {"X-Request-Id": "trace-me-1"}
            )
            assert published.headers["x-request-id"] == "trace-me-1"
            event = published.json()["event_id"]
            await failing.wait_for(2)
            # A generated id when the caller sends none (or an unusable one).
            other = await http.get("/v1/events", headers=auth | {"X-Request-Id": "bad id!"})
            assert other.headers["x-request-id"].startswith("req_")
            await asyncio.sleep(0.3)  # the outcome of the last attempt is recorded and logged
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0

    lines = [json.loads(line) for line in err.read_text().splitlines()]
    assert lines, "the server logged nothing"
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    publish = [line for line in lines if line.get("request_id") == "trace-me-1"]
    assert publish
    assert publish[0]["account_id"] == account
    assert publish[0]["message"].startswith("POST /v1/events 202")
    gave_up = [line for line in lines if "failed for good" in line["message"]]
    assert gave_up
    assert gave_up[0]["delivery_id"].startswith("dlv_")
    assert gave_up[0]["webhook_id"] == hook["webhook_id"]
    assert gave_up[0]["event_id"] == event
    assert gave_up[0]["account_id"] == account
