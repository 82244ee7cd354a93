"""Schemathesis against the live OpenAPI of a running Hookline, with an account's key and
with the admin key, on each backend: any 5xx, or any answer that its operation does not
document (status, content type, body schema, headers, ``Allow``), fails the test.

The run is bounded and repeatable: a fixed seed, a fixed number of examples per
operation, one worker, and a time limit on the whole process. Path ids are those of real
resources made first (a webhook, an event and its delivery, an API, a call, an event
type, a source and an address it watches), so the
fuzzer reaches the code behind them rather than 404s. The server runs without a delivery
worker, so the webhooks and API calls the fuzzer registers send nothing anywhere.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from tests.support.server import ADMIN_KEY, Running

ADDRESS = "0x" + "ab" * 20
SEED = 20261123
EXAMPLES = 10
# A guard against a hung run, not a speed check: a run takes about 3 min while the rest of
# the suite runs beside it.
TIME_LIMIT = 600.0
# DELETE /v1/event-types/{name} archives: the type stays readable by design (docs/api.md),
# so it is left out of the sequences of calls, where a read after it that answers 200 would
# count as a deleted resource still served. It is fuzzed on its own like every operation.
OPERATIONS = """
[[operations]]
include-path = "/v1/event-types/{name}"
include-method = "DELETE"
phases.stateful.enabled = false
"""


def command(url: str, key: str) -> list[str]:
    """The schemathesis command line, the same one docs/api.md shows for a manual run."""
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        "all",
        # The API checks meaning beyond the schema (reachable URLs, secret formats, event
        # names) and refuses with a 422 and a code: schema-valid is not always acceptable.
        "--exclude-checks",
        "positive_data_acceptance",
        # Revoking the run's own key would leave the rest of the run nothing to test.
        "--exclude-operation-id",
        "revoke_key_v1_keys__key_id__delete",
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("who", ["account", "admin"])
async def test_schemathesis_finds_no_failure(
    make_hookline: Callable[..., Awaitable[Running]], who: str, backend: str, tmp_path: Path
) -> None:
    if who == "admin" and backend != "sqlite":
        # The admin key reaches the same store code as an account's on every operation
        # but a handful; once on SQLite covers them, and saves minutes per run.
        pytest.skip("the admin run is made on SQLite only")
    hookline = await make_hookline(worker=False)
    r = await hookline.admin.post("/v1/accounts", json={"name": "fuzz"})
    account_key = r.json()["api_key"]["key"]
    ids = await _resources(hookline.client(account_key))
    ids["account_id"] = r.json()["account_id"]
    # schemathesis reads schemathesis.toml where it runs: every path id is a real one.
    config = "".join(f'"path.{name}" = "{value}"\n' for name, value in ids.items())
    (tmp_path / "schemathesis.toml").write_text("[parameters]\n" + config + OPERATIONS)
    argv = command(hookline.url, account_key if who == "account" else ADMIN_KEY)
    # Its own directory: schemathesis and hypothesis keep their files where they run.
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), TIME_LIMIT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"schemathesis ran longer than {TIME_LIMIT} s") from None
    text = out.decode(errors="replace")
    summary = [line for line in text.splitlines() if " generated, " in line]
    print(who, summary)  # the run's size, for -s
    assert proc.returncode == 0, text[-6000:]
    assert summary, text[-3000:]
    assert "unique failures" not in summary[0], text[-6000:]


async def _resources(client: httpx.AsyncClient) -> dict[str, str]:
    hook = await client.post("/v1/webhooks", json={"callback_url": "http://127.0.0.1:9/h"})
    event = await client.post("/v1/events", json={"type": "a.b"})
    detail = await client.get(f"/v1/events/{event.json()['event_id']}")
    api = await client.post(
        "/v1/apis", json={"name": "x", "upstream_url": "http://127.0.0.1:9/u", "public": True}
    )
    call = await client.post("/v1/calls", json={"api_id": api.json()["api_id"]})
    # Ended, so its event stream and ?wait= answer at once: with no worker in this server a
    # queued call would hold each such request until the request timeout.
    await client.post(f"/v1/calls/{call.json()['request_id']}/cancel")
    await client.post("/v1/event-types", json={"name": "a.b", "example": {}})
    source = await client.post(
        "/v1/sources", json={"kind": "evm", "name": "x", "rpc_url": "http://127.0.0.1:9/rpc"}
    )
    source_id = source.json()["source_id"]
    await client.post(f"/v1/sources/{source_id}/addresses", json={"address": ADDRESS})
    return {
        "webhook_id": hook.json()["webhook_id"],
        "event_id": event.json()["event_id"],
        "delivery_id": detail.json()["deliveries"][0]["delivery_id"],
        "api_id": api.json()["api_id"],
        "call_id": call.json()["request_id"],
        "name": "a.b",
        "source_id": source_id,
        "address": ADDRESS,
    }
