"""The request shapes of self-hosted API gateways' samples, and the Python and Node
samples of docs/gateway.md run as they are against a real server."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.gateway.conftest import MakeParty
from tests.support.gateway import list_api, until_final
from tests.support.receiver import Receiver
from tests.support.server import Running
from tests.support.upstream import Upstream

DOCS = Path(__file__).resolve().parents[3] / "docs" / "gateway.md"


def sample(name: str) -> str:
    """The code block that follows ``<!-- sample: name -->`` in docs/gateway.md."""
    match = re.search(
        rf"<!-- sample: {name} -->\n```\w+\n(.*?)```", DOCS.read_text(), flags=re.DOTALL
    )
    assert match is not None, f"no {name} sample in {DOCS}"
    return match.group(1)


async def test_internal_call_and_per_api_call_shapes(
    hookline: Running, upstream: Upstream, receiver: Receiver, make_party: MakeParty
) -> None:
    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer", credit=100)
    api = await list_api(owner, upstream.url + "/v1", price=10)
    key = consumer.client.headers["authorization"].removeprefix("Bearer ")
    hooks = receiver.url + "/results"

    r = await hookline.admin.post(
        "/internal/call",
        json={
            "api_id_public": api["api_id"],
            "method": "POST",
            "path": "/echo",
            "params": {"text": "hello", "webhook_url": hooks},
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 202, r.text
    first = r.json()
    assert first["requestId"] == first["request_id"] == first["result"]["requestId"]
    assert r.headers["location"] == first["status_url"]

    r = await hookline.admin.post(
        f"/v1/apis/{api['api_id']}/call",
        json={"text": "hi", "webhook_url": hooks},
        headers={"X-Consumer-Key": key, "Authorization": ""},
    )
    assert r.status_code == 202, r.text
    second = r.json()
    assert second["requestId"] == second["result"]["requestId"]

    got = await upstream.wait_for(2)
    by_path = {g.path: g for g in got}
    assert by_path["/v1/echo"].json() == {"text": "hello"}  # webhook_url is Hookline's
    assert by_path["/v1"].json() == {"text": "hi"}
    for accepted in (first, second):
        assert (await until_final(consumer, accepted["request_id"]))["status"] == "succeeded"
    webhooks = await receiver.wait_for(2)
    ids = {orjson.loads(h.body)["data"]["request_id"] for h in webhooks}
    assert ids == {first["request_id"], second["request_id"]}

    # The same code path: the same refusals, and Prefer: wait.
    waited = await hookline.admin.post(
        f"/v1/apis/{api['api_id']}/call",
        json={"text": "now"},
        headers={"X-Consumer-Key": key, "Prefer": "wait=10", "Authorization": ""},
    )
    assert waited.status_code == 200, waited.text
    assert waited.json()["result"]["body"] == {"answer": 42}
    assert waited.json()["result"]["requestId"] == waited.json()["request_id"]
    nobody = await hookline.admin.post(
        f"/v1/apis/{api['api_id']}/call", json={}, headers={"Authorization": ""}
    )
    assert nobody.status_code == 401
    wrong = await hookline.admin.post(
        f"/v1/apis/{api['api_id']}/call",
        json={},
        headers={"X-Consumer-Key": "hk_wrong", "Authorization": ""},
    )
    assert wrong.status_code == 401
    missing = await hookline.admin.post(
        "/internal/call",
        json={"api_id_public": "api_nope", "params": {}},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "api_not_found"
    admin = await hookline.admin.post("/internal/call", json={"api_id_public": api["api_id"]})
    assert admin.status_code == 403  # the admin key is no consumer


async def run_sample(argv: list[str], env: dict[str, str], cwd: Path) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=os.environ | env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    return out.decode()


@pytest.mark.parametrize("language", ["python", "node"])
async def test_docs_samples_run_against_a_real_server(
    language: str,
    hookline: Running,
    upstream: Upstream,
    receiver: Receiver,
    make_party: MakeParty,
    tmp_path: Path,
) -> None:
    if language == "node" and shutil.which("node") is None:
        pytest.skip("node is not installed")
    owner = await make_party(hookline, "owner")
    consumer = await make_party(hookline, "consumer", credit=100)
    api = await list_api(owner, upstream.url, price=1)
    env = {
        "HL": hookline.url,
        "CONSUMER_KEY": consumer.client.headers["authorization"].removeprefix("Bearer "),
        "FAST": api["api_id"],
        "WEBHOOK_URL": receiver.url + "/results",
    }
    if language == "python":
        (tmp_path / "call.py").write_text(sample("python"))
        out = await run_sample([sys.executable, "call.py"], env, tmp_path)
    else:
        (tmp_path / "call.mjs").write_text(sample("node"))
        out = await run_sample(["node", "call.mjs"], env, tmp_path)
    lines = out.split()
    ids = [w for w in lines if w.startswith("call_")]
    assert lines[:2] == ["internal/call", "202"], out
    assert len(ids) == 2, out
    webhooks: list[Any] = await receiver.wait_for(2)
    assert {orjson.loads(h.body)["data"]["request_id"] for h in webhooks} == set(ids)
