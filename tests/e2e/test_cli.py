"""``hookline`` as a user runs it: real subprocesses, driven over HTTP."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from hookline.domain.signing import Scheme, generate_secret, signature_headers
from tests.support.processes import HooklineProcess, hookline_env, kill_hard, run_cli
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.slow


def cli_env(tmp_path: Path, **settings: object) -> dict[str, str]:
    """The embedded default: a SQLite file in the data directory."""
    return hookline_env(f"sqlite:///{tmp_path / 'hookline.db'}", tmp_path, **settings)


async def start_serve(
    tmp_path: Path, env: dict[str, str] | None = None, **settings: object
) -> HooklineProcess:
    n = len(list(tmp_path.glob("serve-*.log")))  # noqa: ASYNC240 - a tmp dir listing
    process = HooklineProcess(
        ["serve"], env or cli_env(tmp_path, **settings), tmp_path / f"serve-{n}.log"
    )
    return await process.start()


async def test_migrate_creates_then_reports_up_to_date(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    code, out, err = await run_cli("migrate", env=env)
    assert code == 0, err
    assert "upgraded from empty" in out
    code, out, _ = await run_cli("migrate", env=env)
    assert code == 0
    assert "up to date" in out
    assert (tmp_path / "hookline.db").exists()


async def test_invalid_setting_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = await run_cli("serve", env=cli_env(tmp_path, egress_allow="not-a-cidr"))
    assert code == 2
    assert "invalid setting egress_allow" in err
    assert "Traceback" not in err


async def test_serve_end_to_end(tmp_path: Path, receiver: Receiver) -> None:
    server = await start_serve(tmp_path)
    try:
        async with server.admin() as admin:
            assert (await admin.get("/health")).json()["status"] == "ok"
            created = (await admin.post("/v1/accounts", json={"name": "acme"})).json()
        async with server.admin(created["api_key"]["key"]) as acme:
            hook = (await acme.post("/v1/webhooks", json={"callback_url": receiver.url})).json()
            ev = await acme.post("/v1/events", json={"type": "job.done", "data": {"ok": 1}})
            assert ev.status_code == 202
            (got,) = await receiver.wait_for(1)
            assert Webhook(hook["secret"]).verify(got.body, got.headers)["data"] == {"ok": 1}
    finally:
        assert await server.terminate() == 0


async def test_admin_key_is_generated_when_not_configured(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    del env["HOOKLINE_ADMIN_KEY"]
    server = await start_serve(tmp_path, env=env)
    try:
        key = (tmp_path / "admin_key").read_text().strip()
        assert (tmp_path / "admin_key").stat().st_mode & 0o777 == 0o600
        async with server.admin(key) as admin:
            assert (await admin.post("/v1/accounts", json={"name": "a"})).status_code == 201
    finally:
        await server.terminate()


async def _account_with_hook(server, url: str, **hook):  # type: ignore[no-untyped-def]
    async with server.admin() as admin:
        key = (await admin.post("/v1/accounts", json={"name": "acme"})).json()["api_key"]["key"]
    client = server.admin(key)
    r = await client.post("/v1/webhooks", json={"callback_url": url, **hook})
    assert r.status_code == 201
    return client


def _deliveries(db: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status, lease_owner FROM deliveries").fetchall()


async def test_sigterm_releases_unfinished_deliveries_at_once(
    tmp_path: Path, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    slow = await make_receiver(lambda _r, _n: Reply(200, delay=5))
    settings = {"delivery_timeout": 10, "lease_seconds": 60, "shutdown_grace": 0.3}
    server = await start_serve(tmp_path, **settings)
    acme = await _account_with_hook(server, slow.url)
    for _ in range(3):
        await acme.post("/v1/events", json={"type": "a", "data": {}})
    await slow.wait_for(3)
    await acme.aclose()
    assert await server.terminate() == 0
    # Released, not left leased for 60 s: due now, owned by nobody.
    assert _deliveries(tmp_path / "hookline.db") == [("pending", None)] * 3

    fast = await make_receiver()
    slow.script = lambda _r, _n: Reply(200)
    server = await start_serve(tmp_path, **settings)
    try:
        got = await slow.wait_for(6)
        assert len({r.headers["webhook-id"] for r in got}) == 3
    finally:
        await server.terminate()
    assert fast.received == []


async def test_deliveries_of_a_killed_process_are_sent_after_the_lease(
    tmp_path: Path, make_receiver
) -> None:  # type: ignore[no-untyped-def]
    hang = {"on": True}
    rx = await make_receiver(lambda _r, _n: Reply(200, delay=30 if hang["on"] else 0))
    settings = {"delivery_timeout": 1, "lease_seconds": 6}
    server = await start_serve(tmp_path, **settings)
    acme = await _account_with_hook(server, rx.url, retry_policy={"schedule": [0.1]})
    ev = (await acme.post("/v1/events", json={"type": "a", "data": {}})).json()
    await acme.aclose()
    await rx.wait_for(1)
    kill_hard(server)  # SIGKILL: no release, the lease stays
    await server.wait()
    assert _deliveries(tmp_path / "hookline.db")[0][0] == "sending"

    hang["on"] = False
    server = await start_serve(tmp_path, **settings)
    try:
        got = await rx.wait_for(2, timeout=20)
        assert got[-1].headers["webhook-id"] == ev["event_id"]
    finally:
        await server.terminate()
    for _ in range(50):
        if _deliveries(tmp_path / "hookline.db")[0][0] == "succeeded":
            break
        await asyncio.sleep(0.1)
    assert _deliveries(tmp_path / "hookline.db") == [("succeeded", None)]


async def test_receive_prints_and_verifies_deliveries(tmp_path: Path) -> None:
    secret = generate_secret()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hookline",
        "receive",
        "--port",
        "0",
        "--secret",
        secret,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        first = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        url = first.split("receiving on ")[1].strip()
        body = b'{"type":"a"}'
        good = signature_headers(
            scheme=Scheme.STANDARD,
            header=None,
            secrets=[secret],
            msg_id="msg_1",
            timestamp=int(time.time()),
            body=body,
        )
        async with httpx.AsyncClient() as client:
            await client.post(url, content=body, headers=good)
            await client.post(url, content=body + b" ", headers=good)
        lines = [(await asyncio.wait_for(proc.stdout.readline(), 10)).decode() for _ in range(4)]
        assert "webhook-id=msg_1 signature=valid" in lines[0]
        assert "signature=INVALID" in lines[2]
    finally:
        proc.terminate()
        await proc.wait()


async def test_help_shows_every_setting_whole_with_its_variable_type_and_default(
    tmp_path: Path,
) -> None:
    from hookline.config import Settings

    env = cli_env(tmp_path) | {"COLUMNS": "80"}  # a usual terminal: wrapped, never cut
    code, out, _ = await run_cli("serve", "--help", env=env)
    assert code == 0
    flat = " ".join(out.split())
    for name in Settings.model_fields:
        assert f"HOOKLINE_{name.upper()}" in flat
    assert "--port INTEGER [default: 8000] [env var: HOOKLINE_PORT]" in flat
    assert "--delivery-timeout FLOAT [default: 15.0]" in flat
