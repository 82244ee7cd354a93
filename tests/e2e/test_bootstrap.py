"""``scripts/bootstrap`` says what it is doing when it installs (a first run is long)."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


async def test_first_run_says_what_it_installs(tmp_path: Path) -> None:
    # A checkout whose .venv exists but whose install stamp does not: bootstrap installs.
    work = tmp_path / "checkout"
    (work / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "bootstrap", work / "scripts" / "bootstrap")
    (work / "pyproject.toml").write_text("")
    venv_bin = work / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    # A stand-in interpreter: records the install instead of running pip.
    (venv_bin / "python").write_text('#!/bin/sh\necho "$@" >> "$(dirname "$0")/pip.log"\n')
    (venv_bin / "python").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "HOOKLINE_EXTRAS"}
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        "source scripts/bootstrap",
        cwd=work,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err
    assert out == b""
    assert b"installing Hookline and its dependencies [test,otel] into .venv" in err
    assert b"installed in" in err
    assert "install --quiet -e .[test,otel]" in (venv_bin / "pip.log").read_text()
