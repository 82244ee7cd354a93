"""A smoke test of the Svix JavaScript SDK (npm ``svix``) run by Node.js against a
real Hookline: create, send, receive, verify."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("node") is None, reason="needs node"),
]
NODE_DIR = Path(__file__).parents[1] / "node"


async def test_javascript_sdk_publishes_and_verifies(make_hookline) -> None:  # type: ignore[no-untyped-def]
    if not (NODE_DIR / "node_modules" / "svix").is_dir():
        pytest.skip("run scripts/node-install")
    hookline = await make_hookline()
    account = await hookline.new_account()
    key = account.headers["Authorization"].removeprefix("Bearer ")
    proc = await asyncio.create_subprocess_exec(
        "node",
        "svix_smoke.mjs",
        hookline.url,
        key,
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["appUid"] == "node-app"
    assert result["svixId"] == result["msgId"]
    assert result["payload"] == {"email": "node@example.com"}
    assert result["endpoints"] == 1
    assert result["done"] is True
