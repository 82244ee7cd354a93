"""The peer: the webhook sender a Python team would build from Celery and Redis.

A competent version of that stack, not a straw man:

* one task per delivery, carrying the URL, secret, message id and the serialised body;
* the task signs like Hookline does (Standard Webhooks HMAC-SHA256 over
  ``id.timestamp.body``) and posts with ``requests`` through a pooled ``Session`` (one per
  worker process, keep-alive, pool sized to the concurrency);
* ``acks_late`` with ``reject_on_worker_lost`` so a crashed worker's task is redelivered;
* non-2xx answers and connection errors raise, and Celery retries them with exponential
  backoff and jitter (``retry_backoff``), up to 8 retries;
* prefetch tuned for short I/O-bound tasks (``worker_prefetch_multiplier``), results
  ignored (no result backend traffic), gossip/mingle/heartbeat off, JSON serialiser.

The worker is started by the bench as
``celery -A bench.peer worker --pool=<pool> --concurrency=<n> -O fair ...``; the pool and
concurrency are in :data:`WORKER_ARGS`. Celery and Redis are the ``bench`` extra.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from typing import Any

import requests
from celery import Celery
from requests.adapters import HTTPAdapter

BROKER = os.environ.get("BENCH_PEER_BROKER", "redis://127.0.0.1:6379/13")
CONCURRENCY = int(os.environ.get("BENCH_PEER_CONCURRENCY", "32"))
POOL = os.environ.get("BENCH_PEER_POOL", "threads")
PREFETCH = int(os.environ.get("BENCH_PEER_PREFETCH", "16"))
TIMEOUT = 15.0
WORKER_ARGS = [
    "worker",
    f"--pool={POOL}",
    f"--concurrency={CONCURRENCY}",
    "-O",
    "fair",
    "--without-gossip",
    "--without-mingle",
    "--without-heartbeat",
    "--loglevel=WARNING",
]

app = Celery("bench_peer", broker=BROKER)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=PREFETCH,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    task_default_queue="bench_peer",
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
    task_send_sent_event=False,
)

_session: requests.Session | None = None


def session() -> requests.Session:
    """One pooled keep-alive session per worker process (created after the fork)."""
    global _session
    if _session is None:
        s = requests.Session()
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=max(CONCURRENCY, 10))
        s.mount("http://", adapter)
        s.mount("https://", adapter)
        s.headers["User-Agent"] = "bench-peer/1"
        _session = s
    return _session


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@app.task(
    bind=True,
    acks_late=True,
    autoretry_for=(requests.RequestException,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def deliver(self: Any, url: str, secret: str, msg_id: str, body: str) -> None:
    raw = body.encode()
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, raw),
    }
    r = session().post(url, data=raw, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    r.raise_for_status()
    if r.status_code >= 300:
        raise requests.HTTPError(f"HTTP {r.status_code}", response=r)
