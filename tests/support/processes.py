"""The real ``hookline`` CLI in subprocesses, for tests about several processes.

Output goes to a file (a pipe nobody reads would fill and stall the process); the
banner line each command prints tells when it is ready and where it listens.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from hookline.config import Settings
from hookline.store.tables import deliveries
from hookline.system import open_database
from tests.support.server import ADMIN_KEY

_LISTENING = re.compile(r"listening on (http://\S+)")
_WORKER = re.compile(r"worker (\S+) started")
_METRICS = re.compile(r"metrics and health on (http://\S+)")


def hookline_env(database_url: str, data_dir: Path, **settings: Any) -> dict[str, str]:
    """Environment for a Hookline process: test defaults, then ``settings`` as
    ``HOOKLINE_*`` variables."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "admin_key": ADMIN_KEY,
        "egress_allow": "127.0.0.0/8",
        "port": 0,
        "poll_interval": 0.2,
        "delivery_timeout": 2.0,
        "lease_seconds": 10.0,
        "shutdown_grace": 2.0,
        # Several processes share one server's connection limit with other tests.
        "db_pool_size": 3,
        "db_max_overflow": 2,
        # A connection is not what these tests time: on a loaded machine a new one can take
        # seconds, which the 5 s default would answer with a 503.
        "db_connect_timeout": 30.0,
        "log_level": "info",
        # Workers' own metrics servers are off unless a test asks for one.
        "metrics_port": 0,
    }
    values.update(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env.update({f"HOOKLINE_{k.upper()}": str(v) for k, v in values.items()})
    return env


class HooklineProcess:
    """One ``hookline serve`` or ``hookline worker`` process."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.env = env
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        self.worker_name = ""
        self.metrics_url = ""

    async def start(self, timeout: float = 30.0) -> HooklineProcess:
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "hookline",
                *self.args,
                env=self.env,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        pattern = _LISTENING if self.args[0] == "serve" else _WORKER
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = pattern.search(self.output())
            if found:
                if self.args[0] == "serve":
                    self.url = found.group(1)
                else:
                    self.worker_name = found.group(1)
                    # Printed before the banner, when the worker serves metrics.
                    metrics = _METRICS.search(self.output())
                    self.metrics_url = metrics.group(1) if metrics else ""
                return self
            if self.proc.returncode is not None or loop.time() > deadline:
                raise AssertionError(f"hookline {self.args[0]} did not start:\n{self.output()}")
            await asyncio.sleep(0.05)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def stop(self) -> None:
        """Stop it if it still runs (SIGTERM, then SIGKILL)."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    async def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, and the exit code once it has stopped."""
        self.signal(signal.SIGTERM)
        return await self.wait(timeout)

    def admin(self, key: str = ADMIN_KEY) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=15
        )


class Cluster:
    """Hookline processes of one test, stopped together at its end."""

    def __init__(self, database_url: str, tmp_path: Path, **settings: Any) -> None:
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.settings = settings
        self.processes: list[HooklineProcess] = []

    async def api(self, *, worker: bool = False, **settings: Any) -> HooklineProcess:
        args = ["serve"] if worker else ["serve", "--no-worker"]
        return await self._start(args, settings)

    async def worker(self, **settings: Any) -> HooklineProcess:
        return await self._start(["worker"], settings)

    async def _start(self, args: list[str], settings: dict[str, Any]) -> HooklineProcess:
        n = len(self.processes)
        env = hookline_env(self.database_url, self.tmp_path, **(self.settings | settings))
        process = HooklineProcess(args, env, self.tmp_path / f"{n}-{args[0]}.log")
        self.processes.append(process)
        return await process.start()

    async def stop(self) -> None:
        await asyncio.gather(*(p.stop() for p in self.processes))


async def new_account(api: HooklineProcess, name: str = "acme") -> httpx.AsyncClient:
    async with api.admin() as admin:
        r = await admin.post("/v1/accounts", json={"name": name})
        assert r.status_code == 201, r.text
        key = r.json()["api_key"]["key"]
    return httpx.AsyncClient(
        base_url=api.url, headers={"Authorization": f"Bearer {key}"}, timeout=15
    )


async def run_cli(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str, str]:
    """Run a ``hookline`` command to completion: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hookline",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def kill_hard(process: HooklineProcess) -> None:
    process.signal(signal.SIGKILL)


async def delivery_rows(database_url: str) -> list[tuple[str, str | None, int]]:
    """(status, lease_owner, attempts) of every delivery, read straight from the database."""
    db = open_database(Settings(database_url=database_url, db_pool_size=1))
    try:
        async with db.read() as conn:
            rows = await conn.execute(
                sa.select(deliveries.c.status, deliveries.c.lease_owner, deliveries.c.attempts)
            )
            return [(r.status, r.lease_owner, r.attempts) for r in rows]
    finally:
        await db.close()


async def settled_rows(
    database_url: str, timeout: float = 20.0
) -> list[tuple[str, str | None, int]]:
    """Delivery rows once none is pending or sending (outcomes are recorded in batches,
    a moment after the receiver answered)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        rows = await delivery_rows(database_url)
        if all(status not in ("pending", "sending") for status, _, _ in rows):
            return rows
        if loop.time() > end:
            raise AssertionError(f"deliveries did not settle: {Counter(r[0] for r in rows)}")
        await asyncio.sleep(0.1)
