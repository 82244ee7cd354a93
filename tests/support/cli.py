"""The ``hookline`` client commands in subprocesses, as a user runs them against a
server: one-shot commands, and long-running ones (``listen``, ``events tail``) whose
output is followed as it comes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.processes import run_cli


def client_env(tmp_path: Path, url: str | None = None, key: str | None = None) -> dict[str, str]:
    """No inherited Hookline settings; a config directory of the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    if url is not None:
        env["HOOKLINE_URL"] = url
    if key is not None:
        env["HOOKLINE_API_KEY"] = key
    return env


async def cli_json(*args: str, env: dict[str, str]) -> Any:
    """Run a command with ``--json`` and decode its output; it must succeed."""
    code, out, err = await run_cli(*args, "--json", env=env)
    assert code == 0, (args, code, err)
    return json.loads(out)


class CliProcess:
    """One long-running command, its output going to a file the test reads."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.env = env
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> CliProcess:
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "hookline",
                *self.args,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def wait_output(self, pattern: str, count: int = 1, timeout: float = 20.0) -> str:
        """Wait until ``pattern`` (a regex) appears ``count`` times; the whole output."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while len(re.findall(pattern, self.output())) < count:
            assert self.proc is not None
            if self.proc.returncode is not None or loop.time() > end:
                raise AssertionError(f"no {pattern!r} x{count} in:\n{self.output()}")
            await asyncio.sleep(0.05)
        return self.output()

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait(self, timeout: float = 20.0) -> int:
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"{self.args} still running after {timeout} s: {self._where()}"
            ) from None

    def _where(self) -> str:
        """What a process that would not end was doing, for the failure message."""
        assert self.proc is not None
        proc = Path(f"/proc/{self.proc.pid}")
        found = []
        for name in ("wchan", "status", "stack"):
            with contextlib.suppress(OSError):
                found.append(f"{name}: {(proc / name).read_text(errors='replace').strip()}")
        py_spy = Path(sys.executable).with_name("py-spy")
        if py_spy.exists():
            dump = subprocess.run(
                [str(py_spy), "dump", "-p", str(self.proc.pid)],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            found.append(dump.stdout or dump.stderr)
        return "\n".join(found) + "\noutput:\n" + self.output()[-2000:]

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
