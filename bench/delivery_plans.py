"""Query plans of delivery searches, stats and re-queues on PostgreSQL with many rows.

``python -m bench.delivery_plans postgresql://postgres@127.0.0.1:5432/hookline_plans``
(re)creates that database, migrates it, loads ``--rows`` deliveries (default 1,000,000)
and as many attempts with set-based ``INSERT … SELECT generate_series``, and prints
``EXPLAIN (ANALYZE, BUFFERS)`` of the statements the repositories really run. The
database is dropped afterwards unless ``--keep``.
"""

# The load statements are SQL built from this module's integer constants, nothing else.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from tests.support import postgres

from hookline.config import Settings
from hookline.domain.ids import lowest_id
from hookline.domain.models import DeliveryStatus
from hookline.domain.search import DeliveryFilter, time_ms
from hookline.store import migrate
from hookline.store.delivery_queries import filtered
from hookline.store.requeue import _matching
from hookline.store.tables import attempts, deliveries
from hookline.system import open_database

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ACCOUNTS = 10
ENDPOINTS_PER_ACCOUNT = 20
TYPES = 50
START = datetime(2026, 10, 1, tzinfo=UTC)
SPAN = timedelta(days=30)


def _time_chars(ms: str) -> str:
    """SQL for the 10 time characters of an id made at ``ms`` (a bigint expression)."""
    parts = [
        f"substr('{ALPHABET}', ((({ms}) >> {5 * (9 - k)}) & 31)::int + 1, 1)" for k in range(10)
    ]
    return " || ".join(parts)


def _id(prefix: str, ms: str, n: str) -> str:
    return f"'{prefix}_' || {_time_chars(ms)} || lpad(({n})::text, 16, '0')"


def load_statements(rows: int) -> list[str]:
    base = time_ms(START)
    step = max(1, int(SPAN.total_seconds() * 1000) // rows)
    messages = rows // 4
    endpoints = ACCOUNTS * ENDPOINTS_PER_ACCOUNT
    msg_ms = f"{base} + i * 4 * {step}"
    dlv_ms = f"{base} + i * {step}"
    ts = "to_timestamp(({ms}) / 1000.0)"
    return [
        f"INSERT INTO accounts (id, name, created_at) SELECT 'acct_' || a, 'a' || a, now() "
        f"FROM generate_series(0, {ACCOUNTS - 1}) a",
        "INSERT INTO applications (id, account_id, uid, name, created_at) "
        "SELECT 'app_' || substr(id, 6), id, 'default', 'default', now() FROM accounts",
        "INSERT INTO endpoints (id, account_id, app_id, url, description, event_types, secret, "
        "signature_scheme, headers, status, failure_count, created_at, updated_at) "
        f"SELECT 'ep_' || e, 'acct_' || (e % {ACCOUNTS}), 'app_' || (e % {ACCOUNTS}), "
        "'https://example.com/' || e, '', 'null', 'whsec_x', 'standard', '{}', 'active', 0, "
        f"now(), now() FROM generate_series(0, {endpoints - 1}) e",
        "INSERT INTO messages (id, account_id, app_id, event_type, payload, created_at) "
        f"SELECT {_id('msg', msg_ms, 'i')}, 'acct_' || (i % {ACCOUNTS}), "
        f"'app_' || (i % {ACCOUNTS}), 'type.' || (i % {TYPES}), '{{}}', "
        f"{ts.format(ms=msg_ms)} FROM generate_series(0::bigint, {messages - 1}) i",
        # Delivery i is of message i/4, to one of four of that message's account's endpoints.
        "INSERT INTO deliveries (id, message_id, endpoint_id, account_id, status, attempts, "
        "next_attempt_at, trigger, created_at, updated_at, event_type, test) "
        f"SELECT {_id('dlv', dlv_ms, 'i')}, "
        f"{_id('msg', f'{base} + (i / 4) * 4 * {step}', 'i / 4')}, "
        f"'ep_' || ((i / 4) % {ACCOUNTS} "
        f"+ {ACCOUNTS} * ((i / 40 + i % 4) % {ENDPOINTS_PER_ACCOUNT})), "
        f"'acct_' || ((i / 4) % {ACCOUNTS}), "
        # Statuses spread by a hash, so no endpoint or type lines up with one of them.
        "CASE WHEN h < 90 THEN 'succeeded' WHEN h < 95 THEN 'failed' "
        "WHEN h < 97 THEN 'held' WHEN h < 98 THEN 'pending' "
        "WHEN h < 99 THEN 'cancelled' ELSE 'sending' END, 1, NULL, 'scheduled', "
        f"{ts.format(ms=dlv_ms)}, {ts.format(ms=dlv_ms)}, 'type.' || ((i / 4) % {TYPES}), false "
        f"FROM generate_series(0::bigint, {rows - 1}) i, "
        "LATERAL (SELECT abs(hashtext(i::text)) % 100 AS h) spread",
        "INSERT INTO attempts (id, delivery_id, endpoint_id, message_id, created_at, trigger, "
        "status_code, duration_ms) "
        "SELECT 'atmpt_' || substr(id, 5), id, endpoint_id, message_id, created_at, "
        "'scheduled', CASE WHEN status = 'failed' THEN 500 ELSE 200 END, "
        "(abs(hashtext(id)) % 500) + 5 FROM deliveries WHERE status <> 'held'",
        "ANALYZE",
    ]


def _sql(stmt: Any) -> str:
    return str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def _page(f: DeliveryFilter, account: str = "acct_3") -> sa.Select[Any]:
    # The statement fetch_page runs: newest first, one more row than the page.
    return (
        sa.select(deliveries)
        .where(*filtered(account, f))
        .order_by(deliveries.c.id.desc())
        .limit(51)
    )


def queries() -> list[tuple[str, str]]:
    day = START + timedelta(days=12)
    week_ago = START + SPAN - timedelta(days=7)
    f_hook = DeliveryFilter(webhook_id="ep_13")
    stats_window = DeliveryFilter(webhook_id="ep_13", since=week_ago)
    recover = DeliveryFilter(
        statuses=(DeliveryStatus.FAILED, DeliveryStatus.HELD),
        webhook_id="ep_13",
        since=week_ago,
    )
    timed = [
        attempts.c.endpoint_id == "ep_13",
        attempts.c.status_code.is_not(None),
        attempts.c.id >= lowest_id("atmpt", time_ms(week_ago)),
    ]
    return [
        ("search: the account, newest first", _sql(_page(DeliveryFilter()))),
        (
            "search: status=failed",
            _sql(_page(DeliveryFilter(statuses=(DeliveryStatus.FAILED,)))),
        ),
        ("search: webhook_id", _sql(_page(f_hook))),
        ("search: event_type", _sql(_page(DeliveryFilter(event_type="type.13")))),
        ("search: event_id", _sql(_page(DeliveryFilter(event_id=_message_id(1003))))),
        (
            "search: since/until (one day)",
            _sql(_page(DeliveryFilter(since=day, until=day + timedelta(days=1)))),
        ),
        (
            "search: webhook_id + status=failed",
            _sql(_page(DeliveryFilter(webhook_id="ep_13", statuses=(DeliveryStatus.FAILED,)))),
        ),
        (
            "stats: counts by status (one webhook, 7 days)",
            _sql(
                sa.select(deliveries.c.status, sa.func.count())
                .where(*filtered("acct_3", stats_window))
                .group_by(deliveries.c.status)
            ),
        ),
        (
            "stats: p95 response time (one webhook, 7 days)",
            _sql(
                sa.select(attempts.c.duration_ms)
                .where(*timed)
                .order_by(attempts.c.duration_ms)
                .offset(1000)
                .limit(1)
            ),
        ),
        (
            "recover: count (failed+held, one webhook, 7 days)",
            _sql(
                sa.select(sa.func.count())
                .select_from(deliveries)
                .where(*_matching("acct_3", recover))
            ),
        ),
        (
            "recover: one chunk",
            _sql(
                sa.select(deliveries.c.id)
                .where(*_matching("acct_3", recover))
                .order_by(deliveries.c.id)
                .limit(500)
            ),
        ),
    ]


def _message_id(n: int) -> str:
    step = max(1, int(SPAN.total_seconds() * 1000) // ROWS[0])
    ms = time_ms(START) + n * 4 * step
    chars = "".join(ALPHABET[(ms >> (5 * (9 - k))) & 31] for k in range(10))
    return f"msg_{chars}{n:016d}"


ROWS = [1_000_000]


async def main(url: str, rows: int, keep: bool) -> None:
    ROWS[0] = rows
    name = postgres.database_of(url)
    await postgres.drop_databases(url, name)
    await postgres.create_database(url, name)
    db = open_database(Settings(database_url=url, db_command_timeout=3600))
    try:
        await migrate.upgrade(db)
        started = time.perf_counter()
        async with db.engine.begin() as conn:
            for statement in load_statements(rows):
                await conn.execute(sa.text(statement))
        print(f"loaded {rows} deliveries in {time.perf_counter() - started:.1f} s\n")
        async with db.engine.connect() as conn:
            for title, sql in queries():
                plan = await conn.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + sql))
                print(f"-- {title}\n{sql}\n")
                print("\n".join(row[0] for row in plan))
                print()
    finally:
        await db.close()
        if not keep:
            await postgres.drop_databases(url, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.delivery_plans", description=__doc__)
    parser.add_argument("url", help="a PostgreSQL database this may drop and recreate")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.url, args.rows, args.keep))
