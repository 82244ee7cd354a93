"""The receiver samples in docs/receiving.md, run as written against real deliveries."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest

from hookline.domain.signing import generate_secret
from tests.support.server import Running, settled

DOC = Path(__file__).parents[2] / "docs" / "receiving.md"


def sample(language: str) -> str:
    (code,) = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)
    return str(code)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
async def test_the_node_sample_verifies_real_deliveries(hookline: Running, tmp_path: Path) -> None:
    script = tmp_path / "receiver.js"
    script.write_text(sample("js"))
    secret = generate_secret()
    out = tmp_path / "node.out"
    with out.open("wb") as sink:
        node = await asyncio.create_subprocess_exec(
            "node",
            str(script),
            env={"SECRET": secret, "PORT": "0", "PATH": "/usr/bin:/bin"},
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while not (found := re.search(r"listening on (\d+)", out.read_text())):
            assert node.returncode is None, out.read_text()
            assert loop.time() < deadline, out.read_text()
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{found.group(1)}/hooks"
        acme = await hookline.new_account()
        good = (
            await acme.post("/v1/webhooks", json={"callback_url": url, "secret": secret})
        ).json()
        forged = (
            await acme.post(
                "/v1/webhooks", json={"callback_url": url, "retry_policy": {"schedule": []}}
            )
        ).json()
        event = (await acme.post("/v1/events", json={"type": "invoice.paid"})).json()["event_id"]
        detail = await settled(acme, event)
        statuses = {d["webhook_id"]: d["last_status_code"] for d in detail["deliveries"]}
        assert statuses == {good["webhook_id"]: 200, forged["webhook_id"]: 400}
        assert f"received invoice.paid {event}" in out.read_text()
    finally:
        node.terminate()
        await node.wait()


@pytest.mark.skipif(shutil.which("go") is None, reason="needs go")
async def test_the_go_sample_compiles(tmp_path: Path) -> None:
    (tmp_path / "receiver.go").write_text(sample("go"))
    (tmp_path / "go.mod").write_text("module example.com/receiver\n\ngo 1.21\n")
    proc = await asyncio.create_subprocess_exec(
        "go", "vet", "./...", cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
