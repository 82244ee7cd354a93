"""Wake-ups across processes on PostgreSQL: ``NOTIFY`` after new work is committed,
``LISTEN`` on a dedicated connection in every worker process.

Notifications are hints, never the source of truth. A worker that misses one (its
listening connection was being re-established, or the notifying process died between
its commit and its ``NOTIFY``) still finds the work at its next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from hookline.store.database import APPLICATION_NAME, Database

log = logging.getLogger("hookline.notify")

CHANNEL = "hookline_due"
# What became due, as the notification's payload: workers wake for deliveries, gateway
# runners for calls. A notification without one (from an older version) wakes both.
DELIVERIES_DUE = "deliveries"
CALLS_DUE = "calls"
# Carries the id of a call that changed, for requests waiting on it in other processes.
CALL_CHANNEL = "hookline_call"
RECONNECT_MIN = 0.25
RECONNECT_MAX = 5.0


class PgNotifier:
    """A :class:`~hookline.services.common.Notifier` for PostgreSQL.

    ``notify()`` wakes this process's own worker at once and sends one ``NOTIFY`` for
    the others, on a connection of its own (one round trip, no pool checkout, no
    transaction). Calls made while a ``NOTIFY`` is on its way coalesce into a single
    follow-up, so a burst of publishes costs a few round trips, not one each.
    Deliveries and calls are told apart by the payload, so a burst of publishes does not
    wake every process's gateway runner to look for queued calls.
    """

    def __init__(self, db: Database, local: Callable[[], None]) -> None:
        self.db = db
        self.local = local
        self._pending = False
        self._calls_pending = False
        self._calls: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None

    def notify(self) -> None:
        self.local()
        self._pending = True
        self._kick()

    def notify_calls(self) -> None:
        """Wake gateway runners in other processes: calls are queued."""
        self._calls_pending = True
        self._kick()

    def notify_call(self, call_id: str) -> None:
        """Tell other processes that a call changed (its waiters re-read it)."""
        self._calls.add(call_id)
        self._kick()

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        while self._pending or self._calls_pending or self._calls:
            due, self._pending = self._pending, False
            calls_due, self._calls_pending = self._calls_pending, False
            changed, self._calls = sorted(self._calls), set()
            # A connection the server dropped shows only when used: retry once on a new one.
            for last_try in (False, True):
                try:
                    if self._conn is None or self._conn.is_closed():
                        self._conn = await connect(self.db)
                    if due:
                        await self._conn.execute(f"NOTIFY {CHANNEL}, '{DELIVERIES_DUE}'")
                    if calls_due:
                        await self._conn.execute(f"NOTIFY {CHANNEL}, '{CALLS_DUE}'")
                    if changed:
                        await self._conn.executemany(
                            "SELECT pg_notify($1, $2)", [(CALL_CHANNEL, c) for c in changed]
                        )
                    break
                except Exception as exc:
                    self._drop()
                    if last_try:
                        # Workers poll as well; the work is found a poll interval later.
                        log.warning("could not notify workers (%s); they will poll for it", exc)
                        return

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None

    async def close(self) -> None:
        if self._task is not None:
            await self._task
        self._drop()


async def connect(db: Database) -> asyncpg.Connection:
    """A connection outside the pool, for LISTEN and NOTIFY, with the pool's time limits."""
    return await asyncpg.connect(
        db.libpq_url,
        timeout=db.connect_timeout,
        command_timeout=db.connect_timeout,
        server_settings={"application_name": APPLICATION_NAME},
    )


class PgListener:
    """Keeps one connection LISTENing and calls ``wake`` on every notification.

    The connection is checked every ``check_every`` seconds (a dead peer does not
    always announce itself) and re-established with backoff whenever it is lost;
    ``wake`` is also called after each (re)connection, since notifications sent while
    nobody listened are gone.
    """

    def __init__(
        self,
        db: Database,
        wake: Callable[[], None],
        *,
        check_every: float = 5.0,
        channel: str = CHANNEL,
        on_payload: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        self.wake = wake
        self.check_every = check_every
        self.channel = channel
        # Given, each notification's payload goes here instead of waking ``wake``.
        self.on_payload = on_payload
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Listen until cancelled."""
        delay = RECONNECT_MIN
        while True:
            try:
                await self._listen_once()
                delay = RECONNECT_MIN
            except Exception as exc:
                log.warning("listening for wake-ups failed (%s); reconnecting in %.2fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX)

    async def _listen_once(self) -> None:
        conn = await connect(self.db)
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(self.channel, self._received)
            self.connected.set()
            self.wake()
            log.info("listening for wake-ups on %s", self.channel)
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.check_every)
                if not lost.is_set():
                    await conn.execute("SELECT 1")
            log.warning("the wake-up connection was closed")
        finally:
            self.connected.clear()
            conn.terminate()

    def _received(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if self.on_payload is not None:
            self.on_payload(str(payload))
        else:
            self.wake()
