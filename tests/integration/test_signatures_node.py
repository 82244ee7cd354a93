"""A receiver written in Node.js, with nothing but its built-in crypto, verifies real v1a
deliveries with the webhook's public key (tests/node/verify_v1a.js)."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
from pathlib import Path

import pytest

from tests.support.receiver import Received, Receiver
from tests.support.server import Running
from tests.support.signing import deliver, expire_grace

SCRIPT = Path(__file__).parents[1] / "node" / "verify_v1a.js"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


async def node_verifies(public_key: str, got: Received, body: bytes | None = None) -> bool:
    request = {
        "headers": got.headers,
        "body_base64": base64.b64encode(got.body if body is None else body).decode(),
    }
    proc = await asyncio.create_subprocess_exec(
        shutil.which("node") or "node",
        str(SCRIPT),
        public_key,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(json.dumps(request).encode())
    assert proc.returncode in (0, 1), err.decode()
    assert out.decode().strip() == ("valid" if proc.returncode == 0 else "invalid")
    return proc.returncode == 0


async def test_node_verifies_deliveries_and_rotations(
    hookline: Running, receiver: Receiver
) -> None:
    acme = await hookline.new_account()
    hook = (
        await acme.post("/v1/webhooks", json={"callback_url": receiver.url, "key_type": "ed25519"})
    ).json()
    old_pk = hook["signature"]["public_key"]

    got = await deliver(acme, receiver, 1)
    assert await node_verifies(old_pk, got)
    assert not await node_verifies(old_pk, got, got.body.replace(b'"n":1', b'"n":2'))
    stale = Received(got.path, got.headers | {"webhook-timestamp": "1000000000"}, got.body, 0)
    assert not await node_verifies(old_pk, stale)

    rotated = (await acme.post(f"/v1/webhooks/{hook['webhook_id']}/secret/rotate")).json()
    got = await deliver(acme, receiver, 2)
    assert await node_verifies(old_pk, got)
    assert await node_verifies(rotated["public_key"], got)

    await expire_grace(hookline, hook["webhook_id"])
    got = await deliver(acme, receiver, 3)
    assert await node_verifies(rotated["public_key"], got)
    assert not await node_verifies(old_pk, got)
