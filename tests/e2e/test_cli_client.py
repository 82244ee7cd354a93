"""The ``hookline`` client commands as a user runs them: real subprocesses against a real
server, with tables for people, ``--json`` for scripts and meaningful exit codes."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest

from tests.support.cli import CliProcess, cli_json, client_env
from tests.support.processes import HooklineProcess, hookline_env, run_cli
from tests.support.receiver import Receiver, Reply
from tests.support.server import ADMIN_KEY

pytestmark = pytest.mark.slow


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> HooklineProcess:
    env = hookline_env(database_url, tmp_path, retry_schedule="0.1")
    process = await HooklineProcess(["serve"], env, tmp_path / "serve.log").start()
    yield process  # type: ignore[misc]
    await process.stop()


async def _account(server: HooklineProcess, tmp_path: Path) -> dict[str, str]:
    admin = client_env(tmp_path, server.url, ADMIN_KEY)
    created = await cli_json("accounts", "create", "acme", env=admin)
    return client_env(tmp_path, server.url, created["api_key"]["key"])


async def test_login_then_manage_webhooks_and_events(
    server: HooklineProcess, tmp_path: Path, receiver: Receiver
) -> None:
    env = client_env(tmp_path)
    code, _, err = await run_cli("login", "--url", server.url, "--api-key", ADMIN_KEY, env=env)
    assert code == 0, err
    saved = tmp_path / "config" / "hookline" / "config.json"
    assert saved.stat().st_mode & 0o777 == 0o600
    # Later commands need no flags: the login file says where and who.
    created = await cli_json("accounts", "create", "acme", env=env)
    assert [a["name"] for a in await cli_json("accounts", "list", env=env)] == ["acme"]

    acme = client_env(tmp_path, server.url, created["api_key"]["key"])  # env wins over file
    hook = await cli_json("webhooks", "create", receiver.url, "-e", "order.*", env=acme)
    assert hook["events"] == ["order.*"]
    assert hook["secret"].startswith("whsec_")
    published = await cli_json("events", "publish", "order.paid", '{"n": 1}', env=acme)
    assert published["deliveries"] == 1
    (got,) = await receiver.wait_for(1)
    assert json.loads(got.body)["data"] == {"n": 1}

    code, table, _ = await run_cli("webhooks", "list", env=acme)
    assert code == 0
    assert hook["webhook_id"] in table
    assert "order.*" in table
    for _ in range(50):
        shown = await cli_json("events", "show", published["event_id"], env=acme)
        if shown["deliveries"][0]["status"] == "succeeded":
            break
        await asyncio.sleep(0.1)
    assert shown["deliveries"][0]["attempts"][0]["status_code"] == 200
    listed = await cli_json("deliveries", "list", "--webhook", hook["webhook_id"], env=acme)
    assert [d["event_id"] for d in listed] == [published["event_id"]]
    disabled = await cli_json("webhooks", "update", hook["webhook_id"], "--disable", env=acme)
    assert disabled["status"] == "disabled"


async def test_exit_codes_say_what_went_wrong(server: HooklineProcess, tmp_path: Path) -> None:
    acme = await _account(server, tmp_path)
    code, _, err = await run_cli("events", "show", "msg_nope", env=acme)
    assert (code, "event_not_found") == (1, err.split("(")[-1].split()[1].rstrip(")"))
    code, _, err = await run_cli("accounts", "list", env=acme)  # needs the admin key
    assert code == 4, err
    code, _, err = await run_cli("events", "list", env=acme | {"HOOKLINE_API_KEY": "hk_wrong"})
    assert code == 4, err
    code, _, err = await run_cli(
        "events", "list", env=acme | {"HOOKLINE_URL": "http://127.0.0.1:9"}
    )
    assert code == 3
    assert "cannot reach" in err
    code, _, err = await run_cli("events", "publish", "a", "{not json", env=acme)
    assert code == 2
    assert "not valid JSON" in err
    code, _, _ = await run_cli("events", "list", env=client_env(tmp_path / "nobody"))
    assert code == 4
    for args in (["events", "show", "msg_nope"], ["events", "publish", "a", "{"]):
        assert "Traceback" not in (await run_cli(*args, env=acme))[2]


async def test_bulk_retry_sends_every_failed_delivery_again(
    server: HooklineProcess, tmp_path: Path, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    up = {"ok": False}
    rx: Receiver = await make_receiver(lambda _r, _n: Reply(200 if up["ok"] else 500))
    acme = await _account(server, tmp_path)
    hook = await cli_json("webhooks", "create", rx.url, env=acme)
    for n in range(3):
        await cli_json("events", "publish", "a", json.dumps({"n": n}), env=acme)
    await rx.wait_for(6)  # two attempts each (schedule: one retry)
    for _ in range(100):
        failed = await cli_json(
            "deliveries", "list", "-w", hook["webhook_id"], "--status", "failed", env=acme
        )
        if len(failed) == 3:
            break
        await asyncio.sleep(0.1)
    assert len(failed) == 3

    up["ok"] = True
    code, _, err = await run_cli("deliveries", "retry", "--status", "nope", env=acme)
    assert code == 2, err
    job = await cli_json(
        "deliveries", "retry", "--webhook", hook["webhook_id"], "--status", "failed",
        "--status", "held", env=acme,
    )  # fmt: skip
    assert (job["queued"], job["done"]) == (3, 3)
    got = await rx.wait_for(9)
    assert sorted(json.loads(r.body)["data"]["n"] for r in got[6:]) == [0, 1, 2]
    # Named deliveries are retried one by one; a refusal shows in the exit code.
    code, _, err = await run_cli("deliveries", "retry", "dlv_nope", env=acme)
    assert code == 1
    assert "dlv_nope" in err


async def test_events_tail_follows_events_and_attempts(
    server: HooklineProcess, tmp_path: Path, receiver: Receiver
) -> None:
    acme = await _account(server, tmp_path)
    await cli_json("webhooks", "create", receiver.url, env=acme)
    await cli_json("events", "publish", "before.tail", env=acme)
    tail = CliProcess(["events", "tail", "--json"], acme, tmp_path / "tail.log")
    await tail.start()
    try:
        await tail.wait_output("Following")
        ev = await cli_json("events", "publish", "during.tail", '{"x": 1}', env=acme)
        await tail.wait_output('"kind": "attempt"')
        tail.signal(signal.SIGINT)
        assert await tail.wait() == 0
    finally:
        await tail.stop()
    lines = [json.loads(x) for x in tail.output().splitlines() if x.startswith("{")]
    assert [(x["kind"], x["event_id"]) for x in lines] == [
        ("event", ev["event_id"]),
        ("attempt", ev["event_id"]),
    ]
    assert lines[1]["status_code"] == 200


async def test_gateway_commands(server: HooklineProcess, tmp_path: Path) -> None:
    acme = await _account(server, tmp_path)
    api = await cli_json(
        "apis", "create", "Echo", "https://example.com/echo", "--public", "--price", "5", env=acme
    )
    assert api["price"] == 5
    assert [a["api_id"] for a in await cli_json("catalog", "echo", env=acme)] == [api["api_id"]]
    paused = await cli_json("apis", "pause", api["api_id"], env=acme)
    assert paused["status"] == "paused"
    code, _, err = await run_cli("calls", "create", api["api_id"], env=acme)
    assert code == 1
    assert "api_paused" in err


async def test_test_sends_attempt_inspection_stats_and_resend(
    server: HooklineProcess, tmp_path: Path, receiver: Receiver
) -> None:
    acme = await _account(server, tmp_path)
    hook = await cli_json("webhooks", "create", receiver.url, "-e", "order.*", env=acme)
    sent = await cli_json("webhooks", "test", hook["webhook_id"], env=acme)
    (got,) = await receiver.wait_for(1)
    assert json.loads(got.body)["type"] == sent["type"]
    for _ in range(50):
        (delivery,) = await cli_json("deliveries", "list", "--event", sent["event_id"], env=acme)
        if delivery["status"] == "succeeded":
            break
        await asyncio.sleep(0.1)
    detail = await cli_json("deliveries", "show", delivery["delivery_id"], env=acme)
    attempt = await cli_json("attempts", "show", detail["attempts"][0]["attempt_id"], env=acme)
    assert attempt["attempt_id"] == detail["attempts"][0]["attempt_id"]
    assert attempt["status_code"] == 200
    stats = await cli_json("webhooks", "stats", hook["webhook_id"], env=acme)
    assert stats["webhook_id"] == hook["webhook_id"]

    other = await cli_json("events", "publish", "invoice.paid", env=acme)  # not subscribed
    resent = await cli_json(
        "events", "resend", other["event_id"], "-w", hook["webhook_id"], env=acme
    )
    assert resent["webhook_id"] == hook["webhook_id"]
    await receiver.wait_for(2)


async def test_event_types_with_a_schema_refuse_events_that_do_not_match(
    server: HooklineProcess, tmp_path: Path
) -> None:
    acme = await _account(server, tmp_path)
    schema = {"type": "object", "required": ["order"]}
    created = await cli_json(
        "event-types", "create", "order.paid", "--schema", json.dumps(schema), env=acme
    )
    assert created["schema"] == schema
    listed = await cli_json("event-types", "list", env=acme)
    assert [t["name"] for t in listed] == ["order.paid"]
    code, _, err = await run_cli("events", "publish", "order.paid", '{"x": 1}', env=acme)
    assert code == 1, err
    assert await cli_json("events", "publish", "order.paid", '{"order": 1}', env=acme)
    archived = await cli_json("event-types", "archive", "order.paid", env=acme)
    assert archived["archived"] is True
