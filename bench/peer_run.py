"""Running the Celery peer: its worker process and its producer."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from bench import procs

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_" + "QmVuY2hTZWNyZXRCZW5jaFNlY3JldEJlbmNo"  # 27 bytes once decoded


def available() -> str | None:
    """Why the peer cannot run here, or None when it can."""
    for module in ("celery", "redis", "requests"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[bench]')"
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            pass
    except OSError:
        return "Redis is not reachable at 127.0.0.1:6379"
    return None


def settings() -> dict[str, Any]:
    from bench import peer

    return {
        "broker": peer.BROKER,
        "pool": peer.POOL,
        "concurrency": peer.CONCURRENCY,
        "prefetch_multiplier": peer.PREFETCH,
        "acks_late": True,
        "reject_on_worker_lost": True,
        "retries": "autoretry on requests errors and non-2xx, retry_backoff=5 s, "
        "max 600 s, jitter, max_retries=8",
        "http_client": "requests.Session per worker process, keep-alive pool",
        "timeout_seconds": peer.TIMEOUT,
        "worker_command": "celery -A bench.peer " + " ".join(peer.WORKER_ARGS),
    }


async def start_worker(logdir: Path) -> procs.Proc:
    from bench import peer

    peer.app.control.purge()
    proc = procs.start(
        "celery-worker",
        [procs.PYTHON, "-m", "celery", "-A", "bench.peer", *peer.WORKER_ARGS],
        logdir,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
    )
    for _ in range(60):
        if await asyncio.to_thread(peer.app.control.ping, timeout=0.5):
            return proc
        if not proc.alive():
            break
        await asyncio.sleep(0.5)
    await proc.stop()
    raise RuntimeError(f"the Celery worker did not answer a ping; its log ends:\n{proc.tail()}")


def producer(receiver_url: str) -> Callable[[dict[str, Any]], None]:
    """What the team's application does per event: build the envelope once and
    enqueue one delivery task per subscribed endpoint (here: one endpoint)."""
    from bench import peer

    counter = itertools.count()
    url = receiver_url + "/ok/peer"

    def publish(data: dict[str, Any]) -> None:
        n = next(counter)
        msg_id = f"msg_peer{n:020d}"
        body = orjson.dumps(
            {
                "id": msg_id,
                "object": "event",
                "type": "bench.tick",
                "api_version": "2026-11-01",
                "webhook_id": "ep_peer",
                "idempotency_key": None,
                "created_at": "2026-11-22T00:00:00.000Z",
                "data": data,
            }
        ).decode()
        peer.deliver.apply_async((url, SECRET, msg_id, body))

    return publish
