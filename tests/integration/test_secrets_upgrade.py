"""A database written before secrets were sealed keeps working: migration 0003 marks
its plaintext, the next start seals it, and every secret still signs and every header
still goes out."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from hookline.config import Settings
from hookline.domain.ids import new_id
from hookline.domain.keys import generate_api_key, hash_api_key
from hookline.domain.signing import generate_secret
from hookline.receiver import verify
from hookline.store import migrate
from hookline.store.sealing import generate_key
from hookline.store.tables import UTCDateTime, accounts, api_keys, applications
from hookline.system import open_database
from tests.integration.test_secrets_at_rest import stored_secrets
from tests.support import postgres
from tests.support.receiver import Receiver
from tests.support.server import Running, settled

# The secret-bearing tables as version 0002 wrote them: plain text and plain JSON.
OLD_ENDPOINTS = sa.table(
    "endpoints",
    *(sa.column(c) for c in ("id", "account_id", "app_id", "url", "description")),
    *(sa.column(c) for c in ("secret", "previous_secret", "signature_scheme", "status")),
    sa.column("headers", sa.JSON()),
    sa.column("failure_count"),
    sa.column("previous_secret_expires_at", UTCDateTime()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
OLD_WALLETS = sa.table(
    "wallets",
    *(sa.column(c) for c in ("account_id", "balance", "reserved", "signing_secret")),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)


@pytest.fixture
async def empty_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    base = postgres.configured_url()
    assert base is not None
    name = postgres.unique_name(postgres.database_of(base))
    yield await postgres.create_database(base, name)
    await postgres.drop_databases(base, name)


async def _write_old_rows(url: str, tmp_path: Path, receiver: Receiver) -> dict[str, str]:
    db = open_database(Settings(database_url=url, data_dir=tmp_path))
    await migrate.upgrade(db, "0002")
    now = datetime.now(UTC)
    ms = int(time.time() * 1000)
    ids = {p: new_id(p, ms) for p in ("acct", "app", "ep", "key")}
    old = {
        "key": generate_api_key(),
        "secret": generate_secret(),
        "previous": generate_secret(),
        "header": "old-header-value-0123456789",
        "gateway": generate_secret(),
        "webhook": ids["ep"],
    }
    async with db.write() as conn:
        await conn.execute(accounts.insert().values(id=ids["acct"], name="old", created_at=now))
        await conn.execute(
            applications.insert().values(
                id=ids["app"], account_id=ids["acct"], uid="default", name="default", created_at=now
            )
        )
        await conn.execute(
            api_keys.insert().values(
                id=ids["key"],
                account_id=ids["acct"],
                key_hash=hash_api_key(old["key"]),
                prefix=old["key"][:12],
                name=None,
                created_at=now,
                revoked_at=None,
            )
        )
        await conn.execute(
            OLD_ENDPOINTS.insert().values(
                id=ids["ep"],
                account_id=ids["acct"],
                app_id=ids["app"],
                url=f"{receiver.url}/old",
                description="",
                secret=old["secret"],
                previous_secret=old["previous"],
                previous_secret_expires_at=now + timedelta(hours=1),
                signature_scheme="standard",
                headers={"X-Old": old["header"]},
                status="active",
                failure_count=0,
                created_at=now,
                updated_at=now,
            )
        )
        await conn.execute(
            OLD_WALLETS.insert().values(
                account_id=ids["acct"],
                balance=0,
                reserved=0,
                signing_secret=old["gateway"],
                created_at=now,
                updated_at=now,
            )
        )
    await db.close()
    return old


async def test_plaintext_from_an_older_version_is_sealed_and_keeps_working(
    empty_database_url: str,
    tmp_path: Path,
    receiver: Receiver,
    make_hookline: Callable[..., Awaitable[Running]],
) -> None:
    old = await _write_old_rows(empty_database_url, tmp_path, receiver)
    hookline = await make_hookline(database_url=empty_database_url, secret_key=generate_key())

    stored = await stored_secrets(hookline)
    assert len(stored) == 4
    assert all(s.lstrip('"').startswith("fernet:") for s in stored), stored
    for value in (old["secret"], old["previous"], old["header"], old["gateway"]):
        assert not any(value in s for s in stored)

    client = hookline.client(old["key"])
    r = await client.get(f"/v1/webhooks/{old['webhook']}/secret")
    assert r.json()["secret"] == old["secret"]
    assert (await client.get("/v1/signing-secret")).json()["secret"] == old["gateway"]
    event = await client.post("/v1/events", json={"type": "a", "data": {}})
    await settled(client, event.json()["event_id"])
    (got,) = receiver.received
    assert got.headers["x-old"] == old["header"]
    verify(old["secret"], got.body, got.headers)
    verify(old["previous"], got.body, got.headers)


async def test_migration_0003_comes_off_while_nothing_is_sealed(
    empty_database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    old = await _write_old_rows(empty_database_url, tmp_path, receiver)
    db = open_database(Settings(database_url=empty_database_url, data_dir=tmp_path))

    def down(conn: sa.Connection) -> None:
        from alembic import command

        command.downgrade(migrate.alembic_config(conn), "0002")

    try:
        await migrate.upgrade(db)
        async with db.engine.begin() as conn:
            await conn.run_sync(down)
        async with db.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(OLD_ENDPOINTS.c.secret, OLD_ENDPOINTS.c.headers))
            ).one()
    finally:
        await db.close()
    assert row.secret == old["secret"]
    assert row.headers == {"X-Old": old["header"]}
