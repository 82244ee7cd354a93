"""Every ```sh block of README.md and docs/*.md runs as pasted, against a live server.

The convention (docs/design.md, "Runnable documentation"):

- a ```sh block is a command to run; ```text shows a command (or output) without running
  it. Other shell fences (bash, shell, console) are refused, so nothing escapes by habit;
- the blocks of one page run in order, in one ``bash`` with ``set -eu -o pipefail``, in
  a fresh directory holding links to everything in this checkout but its data;
- README.md starts Hookline and a receiver itself; every other page runs after the
  README's block that does (so a page may use both, and the admin key in ``.hookline``);
- pages say ``127.0.0.1:8000`` for Hookline and ``127.0.0.1:9000`` (``--port 9000``)
  for the receiver. Every port written as ``127.0.0.1:N``, ``localhost:N``,
  ``--port N`` or ``HOOKLINE_…_PORT=N`` is moved to a free one: every mention of that
  number in the page becomes the same free port (and ``HOOKLINE_PORT`` is set to
  Hookline's); nothing else is rewritten.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

import pytest

from tests.support.ports import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _installed_extras() -> str:
    """The HOOKLINE_EXTRAS .venv was installed with, read off scripts/bootstrap's stamp
    (``.installed-test-otel-bench`` for ``bench``); the environment's when there is none."""
    for stamp in (ROOT / ".venv").glob(".installed-test-otel*"):
        return ",".join(stamp.name.removeprefix(".installed-test-otel").split("-")[1:])
    return os.environ.get("HOOKLINE_EXTRAS", "")


README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.S | re.M)
REFUSED = {"bash", "shell", "console", "zsh", "shell-session"}
STARTS_HOOKLINE = "scripts/serve"
# A port as pages write one: 127.0.0.1:N, localhost:N, --port N, HOOKLINE_…_PORT=N.
PORT = re.compile(r"(?:(?<=127\.0\.0\.1:)|(?<=localhost:)|(?<=--port )|(?<=_PORT=))\d{4,5}\b")


def blocks(page: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(page.read_text())]


def _prelude() -> str:
    """The README's block that starts Hookline and the receiver."""
    for lang, text in blocks(README):
        if lang == "sh" and STARTS_HOOKLINE in text:
            return text
    raise AssertionError("README.md has no ```sh block that starts Hookline")


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
async def test_shell_examples_run_as_pasted(page: Path, tmp_path: Path, database_url: str) -> None:
    found = blocks(page)
    refused = sorted({lang for lang, _ in found if lang in REFUSED})
    assert not refused, f"{page.name}: use ```sh for commands to run, ```text otherwise"
    runnable = [text for lang, text in found if lang == "sh"]
    if not runnable:
        pytest.skip("no ```sh blocks")
    if page != README:
        runnable.insert(0, _prelude())
    script = "set -eu -o pipefail\n" + "\n".join(runnable)
    # Every port a page names moves to a free one (the same number to the same port),
    # so pages never collide with each other or with anything else on the machine.
    moved = {n: str(free_port()) for n in sorted(set(PORT.findall(script)))}
    if moved:  # every mention of such a number, e.g. a page's url.replace("9102", "9103")
        mentioned = re.compile(r"\b(" + "|".join(moved) + r")\b")
        script = mentioned.sub(lambda m: moved[m.group(1)], script)
    api = int(moved.get("8000", str(free_port())))

    work = tmp_path / "work"
    work.mkdir()
    for entry in ROOT.iterdir():  # the checkout, as pages expect, without its data
        if entry.name not in (".git", ".hookline"):
            (work / entry.name).symlink_to(entry)
    # The pages' scripts/serve must find .venv installed as it is, or it installs it
    # again from the page's directory (leaving .venv's Hookline pointing into that
    # directory, deleted later): HOOKLINE_EXTRAS names the extras it was installed with.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env["HOOKLINE_EXTRAS"] = _installed_extras()
    env |= {
        "HOOKLINE_PORT": str(api),
        "HOOKLINE_DATABASE_URL": database_url,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    log = tmp_path / "page.log"
    with log.open("wb") as out:
        # Its own session, so the servers a page starts in the background stop with it.
        proc = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            script,
            cwd=work,
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        code = await asyncio.wait_for(proc.wait(), 240)
    except TimeoutError:  # say where it stopped, not only that it did
        code = None
    finally:
        for sig, pause in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 0.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            await asyncio.sleep(pause)
    tail = log.read_text(errors="replace")[-6000:]
    assert code is not None, f"{page.name} still ran after 240 s:\n{tail}"
    assert code == 0, f"{page.name} failed:\n{tail}"
