"""Console and portal sessions on each backend: they end at their expiry, when their key
is revoked or their application deleted, and a portal link lets exactly one browser in
even when two open it at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hookline.services.common import Context
from hookline.services.console import ConsoleService, Scope
from tests.support.server import ADMIN_KEY, Running


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _service(hookline: Running, clock: Clock) -> ConsoleService:
    sys = hookline.system
    return ConsoleService(
        sys.console.repo,
        sys.accounts,
        sys.applications,
        Context(clock=clock),
        session_seconds=600,
        portal_max_seconds=3600,
    )


async def _account(hookline: Running) -> tuple[str, str]:
    r = await hookline.admin.post("/v1/accounts", json={"name": "sessions"})
    assert r.status_code == 201, r.text
    return r.json()["account_id"], r.json()["api_key"]["key"]


async def test_a_console_session_ends_at_its_expiry(hookline: Running) -> None:
    clock = Clock()
    console = _service(hookline, clock)
    account_id, key = await _account(hookline)
    token, viewer = await console.sign_in(key)
    assert viewer.scope is Scope.ACCOUNT
    assert viewer.account_id == account_id
    clock.now += timedelta(seconds=599)
    assert (await console.resolve(token)) == viewer
    clock.now += timedelta(seconds=2)
    assert await console.resolve(token) is None
    admin_token, admin = await console.sign_in(ADMIN_KEY)
    assert admin.is_admin
    assert (await console.resolve(admin_token)) == admin


async def test_a_portal_session_ends_with_its_link_and_with_its_application(
    hookline: Running,
) -> None:
    clock = Clock()
    console = _service(hookline, clock)
    account_id, key = await _account(hookline)
    client = hookline.client(key)
    for uid in ("one", "two"):
        r = await client.post("/v1/applications", json={"name": uid, "uid": uid})
        assert r.status_code == 201, r.text
    link = await console.issue_portal_link(account_id, "one", 120)
    entered = await console.enter_portal(link.token)
    assert entered is not None
    token, viewer = entered
    assert viewer.scope is Scope.APPLICATION
    assert viewer.expires_at == link.expires_at
    clock.now += timedelta(seconds=121)
    assert await console.resolve(token) is None

    other = await console.issue_portal_link(account_id, "two", 3600)
    entered = await console.enter_portal(other.token)
    assert entered is not None
    assert await console.resolve(entered[0]) is not None
    assert (await client.delete("/v1/applications/two")).status_code == 200
    assert await console.resolve(entered[0]) is None


async def test_two_browsers_opening_one_link_at_once_let_one_in(hookline: Running) -> None:
    console = hookline.system.console
    account_id, _key = await _account(hookline)
    default = await hookline.system.accounts.default_app_id(account_id)
    for _ in range(5):
        link = await console.issue_portal_link(account_id, default, 600)
        results = await asyncio.gather(*(console.enter_portal(link.token) for _ in range(4)))
        assert sum(r is not None for r in results) == 1
