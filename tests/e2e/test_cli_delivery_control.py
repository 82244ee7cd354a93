"""The delivery control options and `deliveries cancel` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import cli_json, client_env
from tests.support.processes import run_cli
from tests.support.server import ADMIN_KEY, Running

pytestmark = pytest.mark.slow


async def test_webhook_options_and_cancel(hookline: Running, tmp_path: Path) -> None:
    admin = client_env(tmp_path, hookline.url, ADMIN_KEY)
    created = await cli_json("accounts", "create", "acme", env=admin)
    env = client_env(tmp_path, hookline.url, created["api_key"]["key"])
    hook = await cli_json(
        "webhooks",
        "create",
        "http://127.0.0.1:9/hooks",
        "--rate-limit",
        "5",
        "--ordering",
        "fifo",
        "--timeout",
        "1.5",
        env=env,
    )
    assert (hook["rate_limit"], hook["ordering"], hook["timeout"]) == (5, "fifo", 1.5)
    hook_id = hook["webhook_id"]
    changed = await cli_json(
        "webhooks", "update", hook_id, "--rate-limit", "none", "--disable", env=env
    )
    assert (changed["rate_limit"], changed["ordering"], changed["active"]) == (None, "fifo", False)

    # Published while disabled: held, and cancelled for good from the command line.
    event = await cli_json("events", "publish", "order.paid", '{"n": 1}', env=env)
    shown = await cli_json("events", "show", event["event_id"], env=env)
    (delivery,) = shown["deliveries"]
    assert delivery["status"] == "held"
    cancelled = await cli_json("deliveries", "cancel", delivery["delivery_id"], env=env)
    assert cancelled["status"] == "cancelled"
    code, _out, err = await run_cli("deliveries", "cancel", delivery["delivery_id"], env=env)
    assert code != 0
    assert "delivery_finished" in err
