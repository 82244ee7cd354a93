"""`hookline serve` on the embedded default serves the console with no extra step, and
every byte a console page loads comes from Hookline itself."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Page, expect

from tests.support.processes import HooklineProcess


async def test_hookline_serve_serves_the_console_from_itself(tmp_path: Path, tab: Page) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env.update({"HOOKLINE_DATA_DIR": str(data), "HOOKLINE_PORT": "0"})
    serve = await HooklineProcess(["serve"], env, tmp_path / "serve.log").start()
    try:
        assert f"console on {serve.url}/console" in serve.output()
        admin_key = (data / "admin_key").read_text().strip()
        requested: list[str] = []
        tab.on("request", lambda r: requested.append(r.url))

        await tab.goto(serve.url + "/console")
        await tab.get_by_label("API key").fill(admin_key)
        await tab.get_by_role("button", name="Sign in").click()
        await expect(tab).to_have_url(serve.url + "/console/admin")
        await expect(tab.get_by_role("heading", level=1)).to_be_visible()
        # The page's own script ran (htmx is loaded and its config read). It is deferred:
        # it runs once the page is parsed, which can be after the heading shows.
        await tab.wait_for_function("typeof window.htmx === 'object'", timeout=10_000)
        assert requested
        assert all(url.startswith(serve.url + "/") for url in requested), requested
    finally:
        await serve.stop()
