"""Child processes of the bench: start, wait until ready, watch memory, stop."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PYTHON = sys.executable


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    peak_rss_kb: int = 0
    _watch: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def rss_kb(self) -> int:
        """Resident memory now (kB), from /proc; 0 once the process is gone."""
        return status_kb(self.pid, "VmRSS")

    def sample_peak(self) -> int:
        """Peak resident memory so far (the kernel's high-water mark, kB)."""
        self.peak_rss_kb = max(self.peak_rss_kb, status_kb(self.pid, "VmHWM"))
        return self.peak_rss_kb

    def alive(self) -> bool:
        return self.popen.poll() is None

    async def stop(self, grace: float = 15.0) -> None:
        if not self.alive():
            return
        self.sample_peak()
        self.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.alive():
            self.popen.kill()
            self.popen.wait()

    def tail(self, lines: int = 20) -> str:
        return tail_file(self.log, lines)


def tail_file(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def status_kb(pid: int, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    m = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(m.group(1)) if m else 0


def start(
    name: str,
    argv: list[str],
    logdir: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Proc:
    log = logdir / f"{name}.log"
    out = log.open("ab")
    popen = subprocess.Popen(
        argv,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    out.close()
    return Proc(name, popen, log)


async def wait_for_line(proc: Proc, pattern: str, timeout: float = 60.0) -> re.Match[str]:
    """Wait until the process's log has a line matching ``pattern``."""
    deadline = time.monotonic() + timeout
    rx = re.compile(pattern)
    while time.monotonic() < deadline:
        for line in proc.log.read_text(errors="replace").splitlines():
            m = rx.search(line)
            if m:
                return m
        if not proc.alive():
            break
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{proc.name} did not print {pattern!r}; its log ends:\n{proc.tail()}")


async def stop_all(procs: list[Proc]) -> None:
    await asyncio.gather(*(p.stop() for p in procs))
