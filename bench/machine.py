"""What the bench ran on and with: machine, versions, and a scratch PostgreSQL database."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import re
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

PG_ADMIN_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def describe(wrk: str | None) -> dict[str, Any]:
    mem_kb = 0
    with contextlib.suppress(OSError):
        m = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        mem_kb = int(m.group(1)) if m else 0
    cpu = ""
    with contextlib.suppress(OSError):
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = m.group(1).strip() if m else ""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in (
        "hookline",
        "aiohttp",
        "fastapi",
        "uvicorn",
        "uvloop",
        "sqlalchemy",
        "aiosqlite",
        "asyncpg",
        "orjson",
        "celery",
        "redis",
        "requests",
    ):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = None
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    if wrk:
        out = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
        versions["wrk"] = (out.stdout or out.stderr).split("[")[0].strip() or None
    if shutil.which("redis-server"):
        out = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, check=False
        )
        m = re.search(r"v=(\S+)", out.stdout)
        versions["redis_server"] = m.group(1) if m else None
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent,
    ).stdout.strip()
    return {
        "commit": commit or None,
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_kb / 2**20, 1),
        "os": platform.platform(),
        # Other work on the machine shares its cores with every measurement.
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "versions": versions,
    }


async def postgres_version() -> str | None:
    import asyncpg

    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one run, dropped afterwards; yields its URL."""
    import asyncpg

    name = "hookline_bench_" + secrets.token_hex(4)
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
