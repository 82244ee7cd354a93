"""``hookline worker`` runs the gateway runner: an API process that forwards nothing
and a worker process, sharing one SQLite file, complete a call together."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from tests.support.gateway import Party, call, list_api, process_env, serve_process, until_final
from tests.support.receiver import Receiver
from tests.support.server import ADMIN_KEY
from tests.support.upstream import Upstream

pytestmark = pytest.mark.slow


async def test_api_and_worker_processes(
    tmp_path: Path, upstream: Upstream, receiver: Receiver
) -> None:
    api_proc, url = await serve_process(tmp_path, "--no-worker")
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hookline",
        "worker",
        env=process_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10
        ) as admin:
            r = await admin.post("/v1/accounts", json={"name": "both"})
            key = r.json()["api_key"]["key"]
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10
        ) as client:
            me = Party(client, r.json()["account_id"])
            api = await list_api(me, upstream.url)
            c = await call(me, api["api_id"], webhook_url=receiver.url)
            (hook,) = await receiver.wait_for(1, timeout=30)
            assert orjson.loads(hook.body)["data"]["request_id"] == c["request_id"]
            assert (await until_final(me, c["request_id"]))["status"] == "succeeded"
    finally:
        for proc in (api_proc, worker):
            if proc.returncode is None:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 20)
