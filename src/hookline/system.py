"""Wiring: build the store, services and worker from settings, and tear them down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from hookline.config import Settings
from hookline.runtime.metrics import Metrics
from hookline.runtime.sender import Sender
from hookline.runtime.wakeup import LocalWakeup
from hookline.runtime.worker import DeliveryWorker
from hookline.services.accounts import AccountService
from hookline.services.common import Context
from hookline.services.deliveries import DeliveryService
from hookline.services.events import EventService
from hookline.services.webhooks import WebhookService
from hookline.store import migrate
from hookline.store.accounts import AccountRepository
from hookline.store.database import Database
from hookline.store.deliveries import DeliveryRepository
from hookline.store.endpoints import EndpointRepository
from hookline.store.messages import MessageRepository
from hookline.store.notify import PgListener, PgNotifier

log = logging.getLogger("hookline")


def ensure_admin_key(settings: Settings) -> str:
    """The configured admin key, or one generated once and kept in the data directory."""
    if settings.admin_key is not None:
        return settings.admin_key.get_secret_value()
    path = Path(settings.data_dir) / "admin_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = "hk_admin_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    log.warning("generated an admin key in %s", path)
    return key


def open_database(settings: Settings) -> Database:
    return Database(
        settings.sqlalchemy_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        connect_timeout=settings.db_connect_timeout,
        command_timeout=settings.db_command_timeout,
    )


@dataclass
class System:
    settings: Settings
    db: Database
    wakeup: LocalWakeup
    metrics: Metrics
    accounts: AccountService
    webhooks: WebhookService
    events: EventService
    deliveries: DeliveryService
    worker: DeliveryWorker | None = None
    _worker_task: asyncio.Task[None] | None = None
    _sender: Sender | None = None
    notifier: PgNotifier | None = None
    listener: PgListener | None = None
    _listener_task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, settings: Settings, *, admin_key: str | None = None) -> System:
        db = open_database(settings)
        if settings.auto_migrate:
            await migrate.upgrade(db)
        wakeup = LocalWakeup()
        # On PostgreSQL other processes' workers must hear of new work too.
        notifier = None if db.is_sqlite else PgNotifier(db, wakeup.notify)
        ctx = Context(notifier=notifier or wakeup)
        account_repo = AccountRepository(db)
        endpoint_repo = EndpointRepository(db)
        delivery_repo = DeliveryRepository(db)
        return cls(
            settings=settings,
            db=db,
            wakeup=wakeup,
            metrics=Metrics(),
            accounts=AccountService(account_repo, ctx, admin_key),
            webhooks=WebhookService(endpoint_repo, ctx, settings.allow_networks),
            events=EventService(
                MessageRepository(db),
                delivery_repo,
                account_repo,
                ctx,
                settings.idempotency_ttl,
            ),
            deliveries=DeliveryService(delivery_repo, endpoint_repo, ctx),
            notifier=notifier,
        )

    async def start_worker(self) -> None:
        s = self.settings
        self._sender = Sender(
            allow=s.allow_networks, timeout=s.delivery_timeout, max_connections=s.worker_concurrency
        )
        await self._sender.start()
        self.worker = DeliveryWorker(
            DeliveryRepository(self.db), self._sender, s, self.wakeup, self.metrics
        )
        self._worker_task = asyncio.create_task(self.worker.run(), name="hookline-worker")
        if not self.db.is_sqlite:
            self.listener = PgListener(
                self.db, self.wakeup.notify, check_every=max(1.0, min(s.poll_interval * 5, 10.0))
            )
            self._listener_task = asyncio.create_task(self.listener.run(), name="hookline-listen")

    async def wait_worker(self) -> None:
        if self._worker_task is not None:
            await self._worker_task

    async def close(self) -> None:
        if self.worker is not None and self._worker_task is not None:
            self.worker.stop()
            await self._worker_task
        if self._listener_task is not None:
            self._listener_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener_task
        if self.notifier is not None:
            await self.notifier.close()
        if self._sender is not None:
            await self._sender.close()
        await self.db.close()
