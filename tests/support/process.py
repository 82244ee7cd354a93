"""The real ``hookline`` CLI in a subprocess."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path
from typing import IO

import httpx

ADMIN_KEY = "e2e-admin-key-0123456789"
_started = 0


class HooklineProcess:
    def __init__(
        self, proc: asyncio.subprocess.Process, url: str, log: Path, log_file: IO[bytes]
    ) -> None:
        self.proc = proc
        self.url = url
        self.log = log
        self._log_file = log_file

    def client(self, key: str = ADMIN_KEY) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=10
        )

    async def terminate(self, timeout: float = 15) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        finally:
            self._log_file.close()

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._log_file.close()


def cli_env(data_dir: Path, **settings: object) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env |= {
        "HOOKLINE_DATA_DIR": str(data_dir),
        "HOOKLINE_ADMIN_KEY": ADMIN_KEY,
        "HOOKLINE_EGRESS_ALLOW": "127.0.0.0/8",
        "HOOKLINE_PORT": "0",
        "HOOKLINE_POLL_INTERVAL": "0.1",
        "HOOKLINE_LOG_LEVEL": "warning",
    }
    env |= {f"HOOKLINE_{k.upper()}": str(v) for k, v in settings.items()}
    return env


async def run_cli(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str, str]:
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


async def start_serve(
    data_dir: Path, *extra: str, env: dict[str, str] | None = None, **settings: object
) -> HooklineProcess:
    """Start ``hookline serve`` on port 0 and wait for the line that gives its address."""
    global _started
    _started += 1
    log = data_dir / f"serve-{_started}.log"
    log_file = log.open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hookline",
        "serve",
        *extra,
        env=env or cli_env(data_dir, **settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=log_file,
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        log_file.close()
        raise AssertionError(f"hookline serve did not start: {log.read_text()}") from None
    found = re.search(r"listening on (http://\S+)", line.decode())
    if not found:
        await proc.wait()
        log_file.close()
        raise AssertionError(f"unexpected first line {line!r}: {log.read_text()}")
    return HooklineProcess(proc, found.group(1), log, log_file)
