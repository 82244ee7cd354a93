"""The ceilings: how many of the same POSTs the receiver can take from ``wrk`` (a C load
generator), and from a bare aiohttp client in Python with nothing persisted."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.load import PAD, Receiver

# The same body and headers a Hookline delivery carries (a signed event envelope).
HEADERS = {
    "Content-Type": "application/json",
    "webhook-id": "msg_2bench000000000000000000000",
    "webhook-timestamp": "1700000000",
    "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
}


def sample_body() -> bytes:
    return orjson.dumps(
        {
            "id": "msg_2bench000000000000000000000",
            "object": "event",
            "type": "bench.tick",
            "api_version": "2026-11-01",
            "webhook_id": "ep_2bench0000000000000000000000",
            "idempotency_key": None,
            "created_at": "2026-11-22T00:00:00.000Z",
            "data": {"t": 0, "seq": 0, "pad": PAD},
        }
    )


def find_wrk(install: bool) -> tuple[str | None, str]:
    """The path to ``wrk``, installing the Debian package when allowed and root."""
    found = shutil.which("wrk")
    if found:
        return found, "found on PATH"
    if not install:
        return None, "wrk not found (quick mode does not install it)"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "wrk not found; install the Debian package `wrk` (needs root)"
    print("  wrk not found: installing it with apt-get (Debian package wrk) ...", flush=True)
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        done = subprocess.run(cmd, capture_output=True, check=False, timeout=300)
        if done.returncode != 0:
            return None, f"apt-get could not install wrk: {done.stderr.decode()[-300:]}"
    found = shutil.which("wrk")
    return found, "installed with apt-get" if found else "apt-get ran but wrk is still missing"


def _wrk_script(path: Path) -> None:
    body = sample_body().decode()
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in HEADERS.items())
    path.write_text(f'wrk.method = "POST"\nwrk.body = [[{body}]]\n{headers}\n')


async def run_wrk(
    wrk: str, receiver: Receiver, workdir: Path, *, seconds: int, connections: int
) -> dict[str, Any]:
    script = workdir / "post.lua"
    _wrk_script(script)
    await receiver.reset()
    argv = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "-s",
        str(script),
        "--latency",
        receiver.url + "/ok/wrk",
    ]
    done = await asyncio.to_thread(
        subprocess.run, argv, capture_output=True, text=True, check=False, timeout=seconds + 60
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    m = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    stats = await receiver.stats()
    return {
        "tool": "wrk",
        "threads": 1,
        "connections": connections,
        "seconds": seconds,
        "requests_per_second": float(m.group(1)) if m else None,
        "received": stats["counts"]["ok"],
        "wrk_output": done.stdout.strip().splitlines()[-12:],
    }


async def run_python(receiver: Receiver, *, seconds: float, connections: int) -> dict[str, Any]:
    """aiohttp, ``connections`` concurrent senders, the same body, for ``seconds``."""
    await receiver.reset()
    body = sample_body()
    url = receiver.url + "/ok/python"
    sent = errors = 0
    stop_at = time.monotonic() + seconds

    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections), headers=HEADERS
    ) as s:

        async def sender() -> None:
            nonlocal sent, errors
            while time.monotonic() < stop_at:
                try:
                    async with s.post(url, data=body) as r:
                        await r.read()
                        sent += 1
                except aiohttp.ClientError:
                    errors += 1

        started = time.monotonic()
        await asyncio.gather(*(sender() for _ in range(connections)))
        elapsed = time.monotonic() - started
    stats = await receiver.stats()
    return {
        "tool": "aiohttp client (no persistence)",
        "connections": connections,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(sent / elapsed, 1),
        "received": stats["counts"]["ok"],
        "errors": errors,
    }
