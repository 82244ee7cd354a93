"""Fixtures of the chain-source tests: a real ganache node per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.evm import Ganache, ensure_installed


@pytest.fixture(scope="session")
def node_installed() -> None:
    reason = ensure_installed()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"chain-source tests cannot run: {reason}")
        pytest.skip(reason)


@pytest.fixture
async def ganache(node_installed: None, tmp_path: Path) -> AsyncIterator[Ganache]:
    node = await Ganache(tmp_path / "ganache.log").start()
    yield node
    await node.stop()
