"""The client commands for the event catalog, chain sources, test sends with attempt
inspection, and recovering a webhook's deliveries: real subprocesses against a real
server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.e2e.test_cli_client import _account, server  # noqa: F401 - the fixture
from tests.support.cli import cli_json
from tests.support.processes import HooklineProcess, run_cli
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.slow

ADDRESS = "0x52908400098527886e0f7030069857d2e4169ee7"
CHECKSUMMED = "0x52908400098527886E0F7030069857D2E4169EE7"


async def test_event_types_create_list_update_archive(
    server: HooklineProcess,  # noqa: F811
    tmp_path: Path,
) -> None:
    acme = await _account(server, tmp_path)
    schema = tmp_path / "order.json"
    schema.write_text(json.dumps({"type": "object", "required": ["order"]}))
    created = await cli_json(
        "event-types", "create", "order.paid", "--description", "an order was paid",
        "--schema", str(schema), "--example", '{"order": 1}', env=acme,
    )  # fmt: skip
    assert created["schema"]["required"] == ["order"]
    await cli_json("event-types", "create", "invoice.sent", env=acme)

    code, out, err = await run_cli("event-types", "list", "--prefix", "order.", env=acme)
    assert code == 0, err
    assert "order.paid" in out
    assert "an order was paid" in out
    assert "invoice.sent" not in out
    listed = await cli_json("event-types", "list", env=acme)
    assert sorted(t["name"] for t in listed) == ["invoice.sent", "order.paid"]

    # The schema is enforced on publishing: the API's refusal is exit code 1.
    code, _, err = await run_cli("events", "publish", "order.paid", '{"x": 1}', env=acme)
    assert code == 1, err
    updated = await cli_json("event-types", "update", "order.paid", "--no-schema", env=acme)
    assert updated["schema"] is None
    await cli_json("events", "publish", "order.paid", '{"x": 1}', env=acme)

    archived = await cli_json("event-types", "archive", "invoice.sent", env=acme)
    assert archived["archived"] is True
    assert [t["name"] for t in await cli_json("event-types", "list", env=acme)] == ["order.paid"]
    shown = await cli_json("event-types", "show", "invoice.sent", env=acme)
    assert shown["archived"] is True

    code, _, err = await run_cli("event-types", "create", "x", "--schema", "{nope", env=acme)
    assert code == 2, err
    code, _, err = await run_cli("event-types", "update", "order.paid", env=acme)
    assert code == 2, err
    code, _, err = await run_cli("event-types", "show", "no.such", env=acme)
    assert code == 1, err


async def test_test_send_then_attempt_shows_the_signed_request(
    server: HooklineProcess,  # noqa: F811
    tmp_path: Path,
    receiver: Receiver,
) -> None:
    acme = await _account(server, tmp_path)
    hook = await cli_json("webhooks", "create", receiver.url, env=acme)
    code, out, err = await run_cli(
        "webhooks", "test", hook["webhook_id"], "--type", "ping.now", "--data", '{"hi": 1}',
        env=acme,
    )  # fmt: skip
    assert code == 0, err
    delivery_id = out.strip()  # the delivery id alone on stdout, for scripts
    assert delivery_id.startswith("dlv_"), out
    (got,) = await receiver.wait_for(1)
    assert json.loads(got.body)["data"] == {"hi": 1}

    for _ in range(100):
        detail = await cli_json("deliveries", "show", delivery_id, env=acme)
        if detail["attempts"]:
            break
        await asyncio.sleep(0.1)
    attempt_id = detail["attempts"][0]["attempt_id"]
    code, out, err = await run_cli("attempts", "show", attempt_id, env=acme)
    assert code == 0, err
    signature = {k.lower(): v for k, v in got.headers.items()}["webhook-signature"]
    assert f"webhook-signature: {signature}" in out
    assert f"POST {receiver.url}" in out
    assert '"hi"' in out
    assert "HTTP 200" in out
    raw = await cli_json("attempts", "show", attempt_id, env=acme)
    assert raw["request"]["method"] == "POST"


async def test_recover_and_time_filters(
    server: HooklineProcess,  # noqa: F811
    tmp_path: Path,
    make_receiver,  # type: ignore[no-untyped-def]
) -> None:
    up = {"ok": False}
    rx: Receiver = await make_receiver(lambda _r, _n: Reply(200 if up["ok"] else 500))
    acme = await _account(server, tmp_path)
    hook = await cli_json("webhooks", "create", rx.url, env=acme)
    published = await cli_json("events", "publish", "a", env=acme)
    await rx.wait_for(2)  # two attempts (schedule: one retry)
    since = published["created_at"]
    for _ in range(100):
        failed = await cli_json(
            "deliveries", "list", "--status", "failed", "--since", since, env=acme
        )
        if failed:
            break
        await asyncio.sleep(0.1)
    assert [d["event_id"] for d in failed] == [published["event_id"]]
    none = await cli_json("deliveries", "list", "--until", "2000-01-01T00:00:00Z", env=acme)
    assert none == []

    up["ok"] = True
    job = await cli_json(
        "webhooks", "recover", hook["webhook_id"], "--since", since, "--status", "failed",
        env=acme,
    )  # fmt: skip
    assert job["queued"] == 1
    await rx.wait_for(3)
    code, _, err = await run_cli(
        "webhooks", "recover", hook["webhook_id"], "--since", since, "--status", "nope",
        env=acme,
    )  # fmt: skip
    assert code == 1, err
    stats = await cli_json("webhooks", "stats", hook["webhook_id"], "--since", since, env=acme)
    assert stats["total"] == 1


async def test_sources_and_their_addresses(
    server: HooklineProcess,  # noqa: F811
    tmp_path: Path,
) -> None:
    acme = await _account(server, tmp_path)
    source = await cli_json(
        "sources", "create", "local node", "--rpc-url", "http://127.0.0.1:9/",
        "--confirmations", "0,2", "--start-block", "0", env=acme,
    )  # fmt: skip
    sid = source["source_id"]
    assert source["confirmations"] == [0, 2]
    code, out, err = await run_cli("sources", "list", env=acme)
    assert code == 0, err
    assert sid in out
    assert "local node" in out

    added = await cli_json("sources", "addresses", "add", sid, ADDRESS, "--label", "hot", env=acme)
    assert [(a["address"], a["label"]) for a in added] == [(CHECKSUMMED, "hot")]
    code, out, err = await run_cli("sources", "addresses", "list", sid, env=acme)
    assert code == 0, err
    assert CHECKSUMMED in out
    await cli_json("sources", "addresses", "remove", sid, ADDRESS, env=acme)
    assert await cli_json("sources", "addresses", "list", sid, env=acme) == []

    assert (await cli_json("sources", "pause", sid, env=acme))["status"] == "paused"
    assert (await cli_json("sources", "resume", sid, env=acme))["status"] != "paused"
    assert (await cli_json("sources", "show", sid, env=acme))["name"] == "local node"
    code, _, err = await run_cli("sources", "delete", sid, env=acme)
    assert code == 0, err
    code, _, err = await run_cli("sources", "show", sid, env=acme)
    assert code == 1, err
    code, _, err = await run_cli(
        "sources", "create", "x", "--rpc-url", "u", "--confirmations", "a", env=acme
    )
    assert code == 2, err
