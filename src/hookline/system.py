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
from hookline.domain.signing import generate_secret
from hookline.runtime.backlog import BacklogSampler
from hookline.runtime.gateway import GatewayRunner
from hookline.runtime.metrics import Metrics
from hookline.runtime.requeue import RequeueRunner
from hookline.runtime.retention import PurgeRunner
from hookline.runtime.sender import Sender
from hookline.runtime.upstream import Upstream
from hookline.runtime.wakeup import CallWatch, LocalWakeup
from hookline.runtime.worker import DeliveryWorker
from hookline.services.accounts import AccountService
from hookline.services.applications import ApplicationService
from hookline.services.calls import CallService, RunnerLink
from hookline.services.catalog import CatalogService
from hookline.services.common import Context
from hookline.services.console import ConsoleService
from hookline.services.deliveries import DeliveryService
from hookline.services.event_types import EventTypeService
from hookline.services.events import EventService
from hookline.services.idempotent_requests import IdempotentRequestService
from hookline.services.listening import ListenService
from hookline.services.requeue import RequeueService
from hookline.services.retention import RetentionService
from hookline.services.routing import RuleBook
from hookline.services.sources import SourceService
from hookline.services.wallets import WalletService
from hookline.services.webhooks import WebhookService
from hookline.sources.runner import SourceRunner
from hookline.store import migrate
from hookline.store.accounts import AccountRepository
from hookline.store.apis import ApiRepository
from hookline.store.applications import ApplicationRepository
from hookline.store.backlog import BacklogRepository
from hookline.store.call_events import CallEventRepository
from hookline.store.call_runs import RunRepository
from hookline.store.calls import CallRepository
from hookline.store.console import ConsoleRepository
from hookline.store.database import Database
from hookline.store.deliveries import DeliveryRepository
from hookline.store.delivery_queries import DeliveryQueries
from hookline.store.endpoints import EndpointRepository
from hookline.store.event_types import EventTypeRepository
from hookline.store.idempotent_requests import IdempotentRequestRepository
from hookline.store.messages import MessageRepository
from hookline.store.notify import (
    CALL_CHANNEL,
    CALLS_DUE,
    DELIVERIES_DUE,
    PgListener,
    PgNotifier,
)
from hookline.store.requeue import RequeueRepository
from hookline.store.retention import RetentionRepository
from hookline.store.routing import RoutingRepository
from hookline.store.sealing import Sealer, generate_key, parse_keys
from hookline.store.secrets import SecretRepository
from hookline.store.settlement import Settler
from hookline.store.sources import SourceRepository
from hookline.store.wallets import WalletRepository

log = logging.getLogger("hookline")


def ensure_admin_key(settings: Settings) -> str:
    """The configured admin key, or one generated once and kept in the data directory."""
    if settings.admin_key is not None:
        return settings.admin_key.get_secret_value()
    path = Path(settings.data_dir) / "admin_key"
    if path.exists():
        return path.read_text().strip()
    make_data_dir(path.parent)
    key = "hk_admin_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    log.warning("generated an admin key in %s", path)
    return key


def make_data_dir(path: Path) -> None:
    """The data directory, created readable by this user alone."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name


def secret_keys(settings: Settings) -> tuple[str, ...]:
    """The keys that seal stored secrets, newest first: ``HOOKLINE_SECRET_KEY``, or the
    ones in ``<data dir>/secret_key``, generated there (mode 0600) on first use."""
    if settings.secret_key is not None:
        return parse_keys(settings.secret_key.get_secret_value())
    path = Path(settings.data_dir) / SECRET_KEY_FILE
    if not path.exists():
        write_key_file(path, (generate_key(),), replace=False)
        if not settings.is_sqlite:
            log.warning(
                "generated a secret key in %s: every process on this database needs the same "
                "key (set HOOKLINE_SECRET_KEY on all of them)",
                path,
            )
    return parse_keys(path.read_text())


def write_key_file(path: Path, keys: tuple[str, ...], *, replace: bool) -> None:
    """Write keys (mode 0600) in one step, so no process ever reads half a file; with
    ``replace=False`` a file another process wrote first wins."""
    make_data_dir(path.parent)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(keys) + "\n")
        f.flush()
        os.fsync(f.fileno())
    try:
        if replace:
            os.replace(temp, path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def open_database(settings: Settings, sealer: Sealer | None = None) -> Database:
    """The database; ``sealer`` is needed to read or write secrets (not to migrate)."""
    return Database(
        settings.sqlalchemy_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        connect_timeout=settings.db_connect_timeout,
        command_timeout=settings.db_command_timeout,
        sealer=sealer,
    )


async def seal_stored_secrets(db: Database) -> None:
    """Refuse to start with keys that cannot open what is stored; seal what older
    versions stored in plain text (migration 0003 marked it)."""
    if await migrate.current_revision(db) != migrate.head_revision():
        return  # not migrated (--no-auto-migrate): leave the data to `hookline migrate`
    repo = SecretRepository(db)
    try:
        await repo.check_readable()
        sealed = await repo.seal_legacy()
    except BaseException:
        await db.close()
        raise
    if sealed:
        log.info("sealed the secrets of %d stored rows", sealed)


@dataclass
class System:
    settings: Settings
    db: Database
    wakeup: LocalWakeup
    metrics: Metrics
    accounts: AccountService
    webhooks: WebhookService
    applications: ApplicationService
    events: EventService
    deliveries: DeliveryService
    catalog: CatalogService
    calls: CallService
    wallets: WalletService
    listening: ListenService
    runner_link: RunnerLink
    idempotent_requests: IdempotentRequestService
    requeue: RequeueService
    requeue_wakeup: LocalWakeup
    event_types: EventTypeService
    sources: SourceService
    retention: RetentionService
    console: ConsoleService
    worker: DeliveryWorker | None = None
    _worker_task: asyncio.Task[None] | None = None
    _sender: Sender | None = None
    notifier: PgNotifier | None = None
    listener: PgListener | None = None
    _listener_task: asyncio.Task[None] | None = None
    runner: GatewayRunner | None = None
    _runner_task: asyncio.Task[None] | None = None
    _upstream: Upstream | None = None
    sampler: BacklogSampler | None = None
    _sampler_task: asyncio.Task[None] | None = None
    requeue_runner: RequeueRunner | None = None
    _requeue_task: asyncio.Task[None] | None = None
    call_watch: CallWatch | None = None
    _call_listener_task: asyncio.Task[None] | None = None
    source_runner: SourceRunner | None = None
    _source_task: asyncio.Task[None] | None = None
    purger: PurgeRunner | None = None
    _purge_task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, settings: Settings, *, admin_key: str | None = None) -> System:
        db = open_database(settings, Sealer(secret_keys(settings)))
        if settings.auto_migrate:
            await migrate.upgrade(db)
        await seal_stored_secrets(db)
        wakeup = LocalWakeup()
        # On PostgreSQL other processes' workers must hear of new work too.
        notifier = None if db.is_sqlite else PgNotifier(db, wakeup.notify)
        ctx = Context(notifier=notifier or wakeup)
        account_repo = AccountRepository(db)
        endpoint_repo = EndpointRepository(db)
        delivery_repo = DeliveryRepository(db)
        settler = Settler(ctx.new_id, generate_secret)
        call_repo = CallRepository(db, settler)
        runner_link = RunnerLink()
        routing = RoutingRepository(db)
        event_types = EventTypeService(EventTypeRepository(db), routing, ctx)
        messages = MessageRepository(db)
        requeue_wakeup = LocalWakeup()
        call_watch = CallWatch()
        if notifier is not None:
            call_watch.remote = notifier.notify_call
        events = EventService(
            messages,
            delivery_repo,
            account_repo,
            ctx,
            settings.idempotency_ttl,
            event_types,
            RuleBook(endpoint_repo, routing),
            schedule_horizon=settings.retention,
        )
        accounts = AccountService(account_repo, ctx, admin_key)
        applications = ApplicationService(ApplicationRepository(db), ctx)
        system = cls(
            settings=settings,
            db=db,
            wakeup=wakeup,
            metrics=Metrics(webhook_labels=settings.metrics_webhook_labels),
            accounts=accounts,
            webhooks=WebhookService(
                endpoint_repo, ctx, settings.allow_networks, settings.delivery_timeout
            ),
            applications=applications,
            console=ConsoleService(
                ConsoleRepository(db),
                accounts,
                applications,
                ctx,
                session_seconds=settings.console_session_seconds,
                portal_max_seconds=settings.portal_max_seconds,
            ),
            events=events,
            deliveries=DeliveryService(
                delivery_repo,
                endpoint_repo,
                ctx,
                DeliveryQueries(db),
                messages,
                account_repo,
                examples=event_types.example,
            ),
            notifier=notifier,
            catalog=CatalogService(
                ApiRepository(db), call_repo, ctx, runner_link, settings.allow_networks
            ),
            calls=CallService(
                call_repo,
                ctx,
                runner_link,
                settings.allow_networks,
                watch=call_watch,
                events=CallEventRepository(db),
                progress_interval=settings.call_progress_interval,
            ),
            wallets=WalletService(WalletRepository(db), account_repo, ctx),
            listening=ListenService(delivery_repo, endpoint_repo, ctx, settings),
            runner_link=runner_link,
            idempotent_requests=IdempotentRequestService(
                IdempotentRequestRepository(db), ctx, settings.idempotency_ttl
            ),
            requeue=RequeueService(RequeueRepository(db), endpoint_repo, ctx, requeue_wakeup),
            requeue_wakeup=requeue_wakeup,
            call_watch=call_watch,
            event_types=event_types,
            retention=RetentionService(
                RetentionRepository(db), ctx, settings.retention, settings.purge_batch_size
            ),
            sources=SourceService(
                SourceRepository(db),
                events,
                ctx,
                settings.allow_networks,
                reorg_window=settings.source_reorg_window,
                catalog=event_types,
            ),
        )
        if not db.is_sqlite:
            # Requests waiting on calls are in API processes, worker or not: every process
            # hears which calls changed elsewhere.
            listener = PgListener(
                db,
                call_watch.wake_all,
                channel=CALL_CHANNEL,
                on_payload=call_watch.wake,
                check_every=max(1.0, min(settings.poll_interval * 5, 10.0)),
            )
            system._call_listener_task = asyncio.create_task(
                listener.run(), name="hookline-call-listen"
            )
        return system

    async def start_worker(self) -> None:
        s = self.settings
        self._sender = Sender(
            allow=s.allow_networks,
            timeout=s.delivery_timeout,
            max_connections=s.worker_concurrency,
            response_body_limit=s.response_body_limit,
        )
        await self._sender.start()
        self.worker = DeliveryWorker(
            DeliveryRepository(self.db), self._sender, s, self.wakeup, self.metrics
        )
        self._worker_task = asyncio.create_task(self.worker.run(), name="hookline-worker")
        if s.worker_handoff:
            self.events.messages.handoff = self.worker
        self.sampler = BacklogSampler(BacklogRepository(self.db), self.metrics, s.backlog_interval)
        self._sampler_task = asyncio.create_task(self.sampler.run(), name="hookline-backlog")
        self.requeue_runner = RequeueRunner(
            RequeueRepository(self.db),
            s,
            self.requeue_wakeup,
            self.notifier if self.notifier is not None else self.wakeup,
        )
        self._requeue_task = asyncio.create_task(self.requeue_runner.run(), name="hookline-requeue")
        await self._start_runner()
        # Chain sources are followed wherever the delivery worker runs.
        self.source_runner = SourceRunner(self.sources, s, self.metrics)
        self._source_task = asyncio.create_task(self.source_runner.run(), name="hookline-sources")
        # Retention is enforced wherever the delivery worker runs.
        self.purger = PurgeRunner(self.retention, s.purge_interval, self.metrics)
        self._purge_task = asyncio.create_task(self.purger.run(), name="hookline-purge")
        if not self.db.is_sqlite:
            # Work published by other processes: wake both the deliveries and the calls.
            self.listener = PgListener(
                self.db,
                self._wake_all,
                check_every=max(1.0, min(s.poll_interval * 5, 10.0)),
                on_payload=self._woken,
            )
            self._listener_task = asyncio.create_task(self.listener.run(), name="hookline-listen")

    def _wake_all(self) -> None:
        self.wakeup.notify()
        if self.runner is not None:
            self.runner.queued()

    def _woken(self, due: str) -> None:
        """A notification from another process: wake what it names (both, unnamed)."""
        if due != CALLS_DUE:
            self.wakeup.notify()
        if due != DELIVERIES_DUE and self.runner is not None:
            self.runner.queued()

    async def _start_runner(self) -> None:
        """The gateway runner runs wherever the delivery worker does."""
        s = self.settings
        self._upstream = Upstream(allow=s.allow_networks, max_connections=s.call_concurrency)
        await self._upstream.start()
        runs = RunRepository(self.db, self.calls.repo.settler)
        # Results it settles are deliveries: tell workers here and, on PostgreSQL, elsewhere.
        deliveries = self.notifier if self.notifier is not None else self.wakeup
        assert self.call_watch is not None
        self.runner = GatewayRunner(
            runs, self._upstream, s, deliveries, self.metrics, watch=self.call_watch
        )
        self.runner_link.target = self.runner
        self._runner_task = asyncio.create_task(self.runner.run(), name="hookline-gateway")

    async def wait_worker(self) -> None:
        if self._worker_task is not None:
            await self._worker_task

    async def close(self) -> None:
        if self.purger is not None and self._purge_task is not None:
            self.purger.stop()
            await self._purge_task
        if self.sampler is not None and self._sampler_task is not None:
            self.sampler.stop()
            await self._sampler_task
        if self.source_runner is not None and self._source_task is not None:
            self.source_runner.stop()
            await self._source_task
        if self.runner is not None and self._runner_task is not None:
            self.runner_link.target = None
            self.runner.stop()
            await self._runner_task
        if self._upstream is not None:
            await self._upstream.close()
        if self.requeue_runner is not None and self._requeue_task is not None:
            self.requeue_runner.stop()
            await self._requeue_task
        if self.worker is not None and self._worker_task is not None:
            self.events.messages.handoff = None
            self.worker.stop()
            await self._worker_task
        for task in (self._listener_task, self._call_listener_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.notifier is not None:
            await self.notifier.close()
        if self._sender is not None:
            await self._sender.close()
        await self.db.close()
