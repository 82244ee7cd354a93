"""Hookline as users run it: real ``hookline`` CLI processes, driven over its HTTP API."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench import procs

ADMIN_KEY = "hk_admin_bench_" + secrets.token_hex(8)
BATCH_MAX = 500
# Settings every bench deployment shares: loopback must be allowed explicitly, and the
# logs stay quiet so that logging is not what gets measured.
BASE_ENV = {
    "HOOKLINE_ADMIN_KEY": ADMIN_KEY,
    "HOOKLINE_EGRESS_ALLOW": "127.0.0.0/8",
    "HOOKLINE_LOG_LEVEL": "warning",
    "HOOKLINE_METRICS_PORT": "0",
}


@dataclass
class Deployment:
    """A running Hookline: an API process and the processes that run workers."""

    label: str
    url: str
    api: procs.Proc
    workers: list[procs.Proc]
    settings: dict[str, str]
    database: str
    extra: dict[str, Any] = field(default_factory=dict)
    # API processes beside ``api`` (``start_split``), and the URLs of all of them.
    more_apis: list[procs.Proc] = field(default_factory=list)
    more_urls: list[str] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [self.url, *self.more_urls]

    @property
    def all(self) -> list[procs.Proc]:
        return [self.api, *self.more_apis, *[w for w in self.workers if w is not self.api]]

    async def stop(self) -> None:
        await procs.stop_all(self.all)


def _hookline(*args: str) -> list[str]:
    return [procs.PYTHON, "-m", "hookline", *args]


async def start_serve(
    label: str,
    logdir: Path,
    *,
    database_url: str,
    data_dir: Path,
    env: dict[str, str],
    with_worker: bool = True,
) -> Deployment:
    """``hookline serve`` on port 0 (API, and by default the worker, in one process)."""
    settings = {**BASE_ENV, **env, "HOOKLINE_DATABASE_URL": database_url}
    settings["HOOKLINE_DATA_DIR"] = str(data_dir)
    argv = _hookline("serve", "--port", "0")
    if not with_worker:
        argv.append("--no-worker")
    api = procs.start(f"{label}-serve", argv, logdir, env=settings)
    try:
        m = await procs.wait_for_line(api, r"listening on (http://\S+)")
    except RuntimeError:
        if with_worker or "No such option: --no-worker" not in api.tail():
            raise
        # Versions whose CLI lost the negative flag still take the option's value.
        argv[-1:] = ["--worker", "false"]
        api = procs.start(f"{label}-serve-api", argv, logdir, env=settings)
        m = await procs.wait_for_line(api, r"listening on (http://\S+)")
    workers = [api] if with_worker else []
    return Deployment(label, m.group(1), api, workers, settings, database_url)


async def start_split(
    label: str,
    logdir: Path,
    *,
    database_url: str,
    data_dir: Path,
    env: dict[str, str],
    workers: int,
    apis: int = 1,
) -> Deployment:
    """Schema first, then ``apis`` x ``hookline serve --no-worker`` over one database
    plus ``workers`` x ``hookline worker``, each its own process."""
    settings = await _migrated(label, logdir, database_url, data_dir, env)
    dep = await start_serve(
        label, logdir, database_url=database_url, data_dir=data_dir, env=settings, with_worker=False
    )
    for i in range(1, apis):
        more = await start_serve(
            f"{label}-{i + 1}",
            logdir,
            database_url=database_url,
            data_dir=data_dir,
            env=settings,
            with_worker=False,
        )
        dep.more_apis.append(more.api)
        dep.more_urls.append(more.url)
    for i in range(workers):
        dep.workers.append(await start_worker(f"{label}-worker{i + 1}", logdir, settings))
    return dep


async def _migrated(
    label: str, logdir: Path, database_url: str, data_dir: Path, env: dict[str, str]
) -> dict[str, str]:
    """``hookline migrate``, then the settings of processes that must not migrate."""
    settings = {**BASE_ENV, **env, "HOOKLINE_DATABASE_URL": database_url}
    settings["HOOKLINE_DATA_DIR"] = str(data_dir)
    mig = procs.start(f"{label}-migrate", _hookline("migrate"), logdir, env=settings)
    await asyncio.to_thread(mig.popen.wait)
    if mig.popen.returncode != 0:
        raise RuntimeError(f"hookline migrate failed:\n{mig.tail()}")
    settings["HOOKLINE_AUTO_MIGRATE"] = "false"
    return settings


async def start_worker(name: str, logdir: Path, settings: dict[str, str]) -> procs.Proc:
    worker = procs.start(name, _hookline("worker"), logdir, env=settings)
    await procs.wait_for_line(worker, r"worker .* started")
    return worker


class Client:
    """One account's view of the API, with a keep-alive connection pool."""

    def __init__(self, base: str, key: str, connections: int = 64) -> None:
        self.base = base
        self.key = key
        self.session = aiohttp.ClientSession(
            base_url=base,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=120),
            json_serialize=lambda v: orjson.dumps(v).decode(),
        )
        self.batch: bool | None = None
        self.errors = 0

    async def close(self) -> None:
        await self.session.close()

    async def _post(self, path: str, body: Any, expect: int) -> Any:
        async with self.session.post(path, data=orjson.dumps(body)) as r:
            raw = await r.read()
            if r.status != expect:
                raise RuntimeError(f"POST {path} -> {r.status}: {raw[:300]!r}")
            return orjson.loads(raw)

    async def new_account(self, name: str) -> Client:
        """A client for a fresh account (call on an admin client)."""
        made = await self._post("/v1/accounts", {"name": name}, 201)
        return Client(self.base, made["api_key"]["key"])

    async def add_webhooks(self, urls: Sequence[str], concurrency: int = 16) -> list[str]:
        sem = asyncio.Semaphore(concurrency)

        async def one(url: str) -> str:
            async with sem:
                made = await self._post("/v1/webhooks", {"callback_url": url}, 201)
                return str(made["webhook_id"])

        return list(await asyncio.gather(*(one(u) for u in urls)))

    async def detect_batch(self) -> bool:
        """Whether this server offers ``POST /v1/events/batch`` (asked on an account
        with no webhooks, so the probe delivers nothing)."""
        body = orjson.dumps({"events": [{"type": "bench.probe", "data": {}}]})
        async with self.session.post("/v1/events/batch", data=body) as r:
            await r.read()
            self.batch = r.status == 202
        return self.batch

    async def publish(self, data: dict[str, Any]) -> None:
        try:
            await self._post("/v1/events", {"type": "bench.tick", "data": data}, 202)
        except (RuntimeError, aiohttp.ClientError, TimeoutError):
            self.errors += 1

    async def publish_many(self, items: Sequence[dict[str, Any]]) -> None:
        """Publish these events, as batches when the server offers them."""
        if not self.batch:
            for d in items:
                await self.publish(d)
            return
        for i in range(0, len(items), BATCH_MAX):
            events = [{"type": "bench.tick", "data": d} for d in items[i : i + BATCH_MAX]]
            try:
                await self._post("/v1/events/batch", {"events": events}, 202)
            except (RuntimeError, aiohttp.ClientError, TimeoutError):
                self.errors += len(events)


def admin(url: str) -> Client:
    return Client(url, ADMIN_KEY, connections=16)


async def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            try:
                async with s.get(url + "/health") as r:
                    if r.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"Hookline at {url} did not become ready")
