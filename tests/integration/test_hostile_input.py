"""The hostile-input table, through the real HTTP API on each backend: every row gets its
4xx and stable code (never a 500), and no row leaves the account unable to read or list."""

from __future__ import annotations

import httpx

from tests.integration.hostile_inputs import CASES, Case
from tests.support.server import Running

# Reads that must keep working whatever was thrown at the API before them.
READS = ["/v1/webhooks", "/v1/events", "/v1/apis", "/v1/calls", "/v1/keys", "/v1/ledger"]


async def test_every_hostile_input_gets_its_4xx(hookline: Running) -> None:
    acme = await hookline.new_account()
    ids = await _targets(hookline, acme)
    wrong: list[str] = []
    for case in CASES:
        client = hookline.admin if case.admin else acme
        r = await _send(client, case, ids)
        got = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        if r.status_code != case.status or (case.code and got.get("code") != case.code):
            wrong.append(f"{case.name}: {r.status_code} {r.text[:200]}")
        elif r.status_code >= 400 and not (got.get("error") and got.get("code")):
            wrong.append(f"{case.name}: error body without error and code: {r.text[:200]}")
    # Whatever was stored stays stored: if any row had left a record behind that cannot be
    # read, these would fail now.
    for path in [*READS, "/v1/webhooks/{webhook}", "/v1/events/{event}", "/v1/apis/{api}"]:
        for name, value in ids.items():
            path = path.replace("{" + name + "}", value)
        read = await acme.get(path, params={"limit": 250} if path in READS else None)
        if read.status_code != 200:
            wrong.append(f"GET {path} answered {read.status_code}: {read.text[:200]}")
    assert not wrong, "\n".join(wrong)
    assert len(CASES) >= 150


async def test_a_refused_method_names_the_allowed_ones(hookline: Running) -> None:
    acme = await hookline.new_account()
    r = await acme.put("/v1/webhooks/ep_x", json={})
    assert r.status_code == 405
    assert r.json()["code"] == "method_not_allowed"
    # The path has one route per method; all of them are named, not only the first.
    assert set(r.headers["allow"].split(", ")) >= {"GET", "PATCH", "DELETE"}
    # A literal path is more specific than a template that also matches it.
    r = await acme.delete("/v1/events/batch")
    assert r.headers["allow"] == "POST"
    # A page outside the API document still names its methods.
    r = await acme.post("/docs")
    assert r.status_code == 405
    assert "GET" in r.headers["allow"]


async def _targets(hookline: Running, acme: httpx.AsyncClient) -> dict[str, str]:
    """Real ids for the table's placeholders, all belonging to ``acme``."""
    hook = await acme.post("/v1/webhooks", json={"callback_url": "http://127.0.0.1:9/hook"})
    event = await acme.post("/v1/events", json={"type": "a.b"})
    api = await acme.post(
        "/v1/apis", json={"name": "x", "upstream_url": "http://127.0.0.1:9/up", "public": True}
    )
    assert hook.status_code == 201
    assert event.status_code == 202
    assert api.status_code == 201
    me = (await hookline.admin.get("/v1/accounts")).json()["data"][0]["account_id"]
    return {
        "webhook": hook.json()["webhook_id"],
        "event": event.json()["event_id"],
        "api": api.json()["api_id"],
        "account": me,
    }


async def _send(client: httpx.AsyncClient, case: Case, ids: dict[str, str]) -> httpx.Response:
    path, body = case.path, case.body
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
        if body is not None:
            body = body.replace(("{" + name + "}").encode(), value.encode())
    headers = {"content-type": "application/json"} if body is not None else {}
    headers |= case.headers
    # Header values go out as the bytes written (latin-1), escapes in the URL as written.
    raw_headers = [(k.encode(), v.encode("latin-1")) for k, v in headers.items()]
    url = str(client.base_url).rstrip("/") + path
    request = client.build_request(case.method, url, content=body, headers=raw_headers)
    return await client.send(request)
