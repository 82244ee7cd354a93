"""Signing secrets, the gateway's signing secret and custom header values are sealed in
the database, and deliveries still carry them; files are readable by their owner alone."""

from __future__ import annotations

import secrets
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hookline.domain.signing import generate_secret
from hookline.receiver import verify
from tests.support.receiver import Receiver
from tests.support.server import Running, settled

Make = Callable[..., Awaitable[Running]]
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


async def stored_secrets(hookline: Running) -> list[str]:
    """Every stored secret column's text, as the database holds it."""
    async with hookline.system.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.text(
                    "SELECT secret, previous_secret, CAST(headers AS TEXT) FROM endpoints "
                    "UNION ALL SELECT signing_secret, NULL, NULL FROM wallets "
                    "UNION ALL SELECT CAST(request_headers AS TEXT), NULL, NULL FROM attempts"
                )
            )
        ).all()
    return [value for row in rows for value in row if value not in (None, "null")]


async def make_secrets(hookline: Running, receiver: Receiver) -> dict[str, Any]:
    """A webhook with a given secret (then rotated) and a custom header, a gateway
    signing secret, and one event delivered; returns the values that must stay hidden."""
    client = await hookline.new_account()
    first, header_value = generate_secret(), "hv-" + secrets.token_hex(16)
    r = await client.post(
        "/v1/webhooks",
        json={
            "callback_url": f"{receiver.url}/hooks",
            "secret": first,
            "headers": {"X-Receiver-Token": header_value},
        },
    )
    assert r.status_code == 201, r.text
    webhook = r.json()["webhook_id"]
    rotated = await client.post(f"/v1/webhooks/{webhook}/secret/rotate")
    assert rotated.status_code == 200, rotated.text
    gateway = (await client.get("/v1/signing-secret")).json()["secret"]
    event = await client.post("/v1/events", json={"type": "a.b", "data": {"n": 1}})
    assert event.status_code == 202, event.text
    await settled(client, event.json()["event_id"])
    return {
        "client": client,
        "webhook": webhook,
        "hidden": [first, rotated.json()["secret"], header_value, gateway],
        "current": rotated.json()["secret"],
        "header_value": header_value,
    }


async def test_secrets_and_header_values_are_sealed_in_the_database(
    make_hookline: Make, receiver: Receiver
) -> None:
    hookline = await make_hookline()
    made = await make_secrets(hookline, receiver)

    stored = await stored_secrets(hookline)
    # secret, previous secret, headers, gateway secret, the attempt's request headers
    assert len(stored) == 5
    for value in made["hidden"]:
        assert not any(value in s for s in stored), value
    assert all(s.lstrip('"').startswith("fernet:") for s in stored), stored

    # Yet the delivery carried the header, signed with both secrets of the rotation.
    (got,) = receiver.received
    assert got.headers["x-receiver-token"] == made["header_value"]
    verify(made["current"], got.body, got.headers)
    verify(made["hidden"][0], got.body, got.headers)
    secret = await made["client"].get(f"/v1/webhooks/{made['webhook']}/secret")
    assert secret.json()["secret"] == made["current"]


@sqlite_only
async def test_no_secret_is_in_the_sqlite_files(
    make_hookline: Make, receiver: Receiver, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    hookline = await make_hookline(data_dir=data, database_url="")
    made = await make_secrets(hookline, receiver)
    files = list(data.glob("hookline.db*"))
    assert {f.name for f in files} >= {"hookline.db", "hookline.db-wal"}
    for value in made["hidden"]:
        for f in files:
            assert value.encode() not in f.read_bytes(), (value, f.name)


@sqlite_only
async def test_the_data_directory_and_its_files_are_private(
    make_hookline: Make, receiver: Receiver, tmp_path: Path
) -> None:
    data = tmp_path / "nested" / "data"
    hookline = await make_hookline(data_dir=data, database_url="")
    await make_secrets(hookline, receiver)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = {f.name: stat.S_IMODE(f.stat().st_mode) for f in data.iterdir()}
    assert set(files) >= {"hookline.db", "hookline.db-wal", "hookline.db-shm", "secret_key"}
    assert all(mode == 0o600 for mode in files.values()), files


@sqlite_only
async def test_an_older_database_file_is_made_private(make_hookline: Make, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "hookline.db").touch(mode=0o644)
    await make_hookline(data_dir=data, database_url="")
    assert stat.S_IMODE((data / "hookline.db").stat().st_mode) == 0o600
