"""Console and portal tests in a real headless Chromium (Debian's ``chromium``), driven
by Playwright, against Hookline served on 127.0.0.1.

They run on SQLite alone: the pages call the same services as the API, whose behaviour on
both backends the API tests cover; what is tested here is the pages themselves.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.support.server import ADMIN_KEY, Running

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("HOOKLINE_TEST_CHROMIUM", "/usr/bin/chromium")
# Where screenshots go: docs/images when refreshing the docs (see docs/console.md).
SHOTS = os.environ.get("HOOKLINE_SCREENSHOTS")


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def chromium() -> str:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM} (scripts/browser-install)")
    return CHROMIUM


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where this test's screenshots go: docs/images when refreshing the docs."""
    where = Path(SHOTS) if SHOTS else tmp_path
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest.fixture
async def tab(context: BrowserContext) -> Page:
    """A browser tab that fails the test on any script error or refused resource."""
    return _watched(await context.new_page())


@pytest.fixture
async def other(browser: Browser) -> AsyncIterator[Page]:
    """A tab in a browser context of its own: another person's browser."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(10_000)
    try:
        yield _watched(await ctx.new_page())
    finally:
        await ctx.close()


def _watched(page: Page) -> Page:
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and "status of 4" not in msg.text
            else None
        ),
    )
    page.problems = problems  # type: ignore[attr-defined]
    return page


@dataclass
class Site:
    """Hookline running, with an account to sign in as."""

    running: Running
    key: str
    account_id: str

    @property
    def url(self) -> str:
        return self.running.url

    async def sign_in(self, tab: Page, key: str | None = None) -> None:
        await tab.goto(self.url + "/console")
        await tab.get_by_label("API key").fill(key or self.key)
        await tab.get_by_role("button", name="Sign in").click()
        await tab.wait_for_load_state()

    async def account(self, name: str) -> tuple[str, str]:
        """Another account: its key and id."""
        r = await self.running.admin.post("/v1/accounts", json={"name": name})
        assert r.status_code == 201, r.text
        body = r.json()
        return body["api_key"]["key"], body["account_id"]

    def client(self, key: str | None = None) -> Any:
        return self.running.client(key or self.key)


@pytest.fixture
async def site(make_hookline: Callable[..., Awaitable[Running]]) -> Site:
    running = await make_hookline()
    r = await running.admin.post("/v1/accounts", json={"name": "Acme"})
    assert r.status_code == 201, r.text
    body = r.json()
    return Site(running=running, key=body["api_key"]["key"], account_id=body["account_id"])


@pytest.fixture
def admin_key() -> str:
    return ADMIN_KEY


async def shoot(tab: Page, name: str, where: Path | None = None) -> None:
    """A screenshot of the page as it is, into ``where`` (the ``shots`` fixture: the
    test's own directory, or docs/images when HOOKLINE_SCREENSHOTS says so)."""
    folder = SHOTS or (str(where) if where is not None else None)
    if folder is not None:
        await tab.screenshot(path=f"{folder}/{name}.png", full_page=False)


def no_problems(tab: Page) -> None:
    problems: list[str] = tab.problems  # type: ignore[attr-defined]
    assert not problems, problems


async def fits_narrow(tab: Page, shot: Path | None = None) -> None:
    """At a phone's width nothing makes the whole page scroll sideways (wide tables
    scroll in their own box); then back to 1280 px."""
    await tab.set_viewport_size({"width": 390, "height": 800})
    overflow = await tab.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than a narrow screen"
    if shot is not None:
        await tab.screenshot(path=str(shot), full_page=True)
    await tab.set_viewport_size({"width": 1280, "height": 800})
