"""Helpers for gateway tests: accounts with money, listed APIs, waiting for calls."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import HooklineProcess, hookline_env
from tests.support.server import Running

FINAL = {"succeeded", "failed", "cancelled", "timed_out", "aborted"}


@dataclass
class Party:
    """An account as a client sees it."""

    client: httpx.AsyncClient
    account_id: str


async def party(hookline: Running, name: str, *, credit: int = 0) -> Party:
    r = await hookline.admin.post("/v1/accounts", json={"name": name})
    assert r.status_code == 201, r.text
    account_id = r.json()["account_id"]
    if credit:
        c = await hookline.admin.post(
            f"/v1/accounts/{account_id}/credits", json={"amount": credit, "note": "test funds"}
        )
        assert c.status_code == 201, c.text
    return Party(hookline.client(r.json()["api_key"]["key"]), account_id)


async def list_api(owner: Party, upstream_url: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "Slow thing", "upstream_url": upstream_url, "price": 0, "public": True}
    r = await owner.client.post("/v1/apis", json=body | fields)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def call(consumer: Party, api_id: str, **fields: Any) -> dict[str, Any]:
    r = await consumer.client.post("/v1/calls", json={"api_id": api_id} | fields)
    assert r.status_code == 202, r.text
    return dict(r.json())


async def until_final(consumer: Party, call_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll the call until it has ended (the polling a client may do instead of a webhook)."""
    async with asyncio.timeout(timeout):
        while True:
            r = await consumer.client.get(f"/v1/calls/{call_id}")
            assert r.status_code == 200, r.text
            if r.json()["status"] in FINAL:
                return dict(r.json())
            await asyncio.sleep(0.02)


async def until_status(consumer: Party, call_id: str, status: str, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while (await consumer.client.get(f"/v1/calls/{call_id}")).json()["status"] != status:
            await asyncio.sleep(0.02)


async def balance(p: Party) -> tuple[int, int]:
    r = await p.client.get("/v1/balance")
    assert r.status_code == 200, r.text
    return r.json()["balance"], r.json()["reserved"]


def process_env(tmp_path: Path) -> dict[str, str]:
    """Settings for Hookline processes that share one SQLite file in ``tmp_path``."""
    return hookline_env(
        f"sqlite:///{tmp_path / 'hookline.db'}",
        tmp_path,
        poll_interval=0.05,
        call_lease_seconds=1,
        log_level="warning",
    )


async def serve_process(tmp_path: Path, *args: str) -> tuple[asyncio.subprocess.Process, str]:
    """``hookline serve`` in a subprocess on port 0; returns it and its URL."""
    n = len(list(tmp_path.glob("gateway-serve-*.log")))  # noqa: ASYNC240 - a tmp dir listing
    process = HooklineProcess(
        ["serve", *args], process_env(tmp_path), tmp_path / f"gateway-serve-{n}.log"
    )
    await process.start()
    assert process.proc is not None
    return process.proc, process.url
