"""No log line, at any level, carries a secret, a key, a token or a header value: real
flows run with every logger at debug (SQL statement logging included) and the captured
records are searched for each value."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable

import pytest

from hookline.store.sealing import generate_key
from tests.integration.test_secrets_at_rest import make_secrets
from tests.support.gateway import call, list_api, party, until_final
from tests.support.receiver import Receiver
from tests.support.server import ADMIN_KEY, Running

CLIENT_SIDE = ("httpx", "httpcore")  # the test's own HTTP client, not Hookline


def _text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.args)]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(record.exc_info[1])))
    return "\n".join(parts)


async def test_debug_logs_carry_no_secret(
    make_hookline: Callable[..., Awaitable[Running]],
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite", "asyncpg", "hookline"):
        caplog.set_level(logging.DEBUG, logger=name)
    secret_key = generate_key()
    hookline = await make_hookline(secret_key=secret_key, log_level="debug")

    made = await make_secrets(hookline, receiver)
    owner = await party(hookline, "owner")
    consumer = await party(hookline, "consumer")
    api = await list_api(owner, f"{receiver.url}/upstream")
    started = await call(consumer, api["api_id"], webhook_url=f"{receiver.url}/result")
    assert (await until_final(consumer, started["request_id"]))["status"] == "succeeded"
    await receiver.wait_for(3)
    consumer_secret = (await consumer.client.get("/v1/signing-secret")).json()["secret"]
    account_key = made["client"].headers["Authorization"].removeprefix("Bearer ")

    hidden = {
        "secret key": secret_key,
        "admin key": ADMIN_KEY,
        "account key": account_key,
        "consumer key": consumer.client.headers["Authorization"].removeprefix("Bearer "),
        "gateway secret": consumer_secret,
    }
    for n, value in enumerate(made["hidden"]):
        hidden[f"webhook value {n}"] = value
        hidden[f"webhook key material {n}"] = value.removeprefix("whsec_")
    records = [r for r in caplog.records if not r.name.startswith(CLIENT_SIDE)]
    assert any(r.name.startswith("sqlalchemy.engine") for r in records)  # SQL was logged
    leaks = [
        (what, r.name, r.getMessage()[:200])
        for r in records
        for what, value in hidden.items()
        if value in _text(r)
    ]
    assert leaks == []
