"""A real local EVM node (ganache, from tests/node) on a free port, and what tests do
with it: send ether, deploy the test token contracts, call them, mine, snapshot, revert.

Contracts are compiled ahead of time (tests/node/compile.js writes Tokens.json), so no
compiler runs here. Accounts are the node's unlocked ones: ``eth_sendTransaction`` needs
no signing.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from tests.support.ports import free_port

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
GANACHE = NODE_DIR / "node_modules" / "ganache" / "dist" / "node" / "cli.js"
INSTALL = NODE_DIR.parents[1] / "scripts" / "node-install"
CHAIN_ID = 1337
ETHER = 10**18


def ensure_installed() -> str | None:
    """Install the node from the lock file if needed; a reason when it cannot run here."""
    node = shutil.which("node")
    if node is None:
        return "node is not installed"
    if not GANACHE.exists():
        subprocess.run(["bash", str(INSTALL)], check=True, timeout=600)
    return None


def contracts() -> dict[str, Any]:
    return dict(json.loads((NODE_DIR / "contracts" / "Tokens.json").read_text())["contracts"])


class Ganache:
    """One ganache process. Blocks are mined when a transaction arrives (instamine)."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.port = 0
        self.proc: asyncio.subprocess.Process | None = None
        self._client: httpx.AsyncClient | None = None
        self.accounts: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 60.0) -> Ganache:
        self.port = free_port()
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                shutil.which("node") or "node",
                str(GANACHE),
                "--server.host=127.0.0.1",
                f"--server.port={self.port}",
                f"--chain.chainId={CHAIN_ID}",
                "--wallet.deterministic=true",
                "--wallet.totalAccounts=6",
                "--logging.quiet=true",
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                env={**os.environ, "NODE_OPTIONS": ""},
            )
        self._client = httpx.AsyncClient(timeout=30)
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        try:
            while True:
                try:
                    self.accounts = await self.call("eth_accounts")
                    return self
                except (httpx.HTTPError, OSError):
                    if self.proc.returncode is not None or loop.time() > end:
                        log = self.log.read_text()
                        raise RuntimeError(f"ganache did not start: {log}") from None
                    await asyncio.sleep(0.2)
        except BaseException:
            # Nothing left behind for a later test to trip over (its client, its process).
            await self.stop()
            raise

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    async def call(self, method: str, *params: Any) -> Any:
        assert self._client is not None
        r = await self._client.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        )
        answer = r.json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    # -- chain control -----------------------------------------------------------------

    async def head(self) -> int:
        return int(await self.call("eth_blockNumber"), 16)

    async def mine(self, blocks: int = 1) -> None:
        await self.call("evm_mine", {"blocks": blocks})

    async def snapshot(self) -> str:
        return str(await self.call("evm_snapshot"))

    async def revert(self, snapshot: str) -> None:
        assert await self.call("evm_revert", snapshot) is True

    # -- transactions ------------------------------------------------------------------

    async def send(self, sender: str, to: str, value: int, data: str | None = None) -> str:
        tx: dict[str, Any] = {"from": sender, "to": to, "value": hex(value), "gas": hex(3_000_000)}
        if data is not None:
            tx["data"] = data
        return str(await self.call("eth_sendTransaction", tx))

    async def receipt(self, tx_hash: str) -> dict[str, Any]:
        receipt = await self.call("eth_getTransactionReceipt", tx_hash)
        assert receipt is not None, f"{tx_hash} is not mined"
        assert receipt["status"] == "0x1", f"{tx_hash} failed: {receipt}"
        return dict(receipt)

    async def deploy(self, name: str, types: list[str], args: list[Any]) -> str:
        code = contracts()[name]["bytecode"] + encode(types, args).hex()
        tx = {"from": self.accounts[0], "data": code, "gas": hex(6_000_000)}
        tx_hash = await self.call("eth_sendTransaction", tx)
        return str((await self.receipt(tx_hash))["contractAddress"])

    async def transact(
        self, sender: str, contract: str, signature: str, types: list[str], args: list[Any]
    ) -> str:
        """Call ``signature`` (e.g. ``mint(address,uint256)``) on ``contract`` from
        ``sender``; returns the mined transaction's hash."""
        data = "0x" + keccak(text=signature)[:4].hex() + encode(types, args).hex()
        tx_hash = await self.send(sender, contract, 0, data)
        await self.receipt(tx_hash)
        return tx_hash


class RpcProxy:
    """An HTTP proxy in front of the node that can slow every request down, or refuse
    them all or some methods (503), to make catch-ups long and outages happen on
    purpose."""

    def __init__(self, target: str, delay: float = 0.0) -> None:
        self.target = target
        self.delay = delay
        self.down = False
        self.refuse: set[str] = set()  # JSON-RPC methods answered 503 while listed
        self.port = 0
        self._runner: Any = None
        self._client: httpx.AsyncClient | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> RpcProxy:
        from aiohttp import web

        async def forward(request: web.Request) -> web.Response:
            if self.down:
                return web.Response(status=503, text="down")
            body = await request.read()
            if self.refuse and json.loads(body).get("method") in self.refuse:
                return web.Response(status=503, text="refused")
            if self.delay:
                await asyncio.sleep(self.delay)
            assert self._client is not None
            r = await self._client.post(
                self.target, content=body, headers={"Content-Type": "application/json"}
            )
            return web.Response(
                status=r.status_code, body=r.content, content_type="application/json"
            )

        self._client = httpx.AsyncClient(timeout=30)
        app = web.Application()
        app.router.add_post("/", forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.aclose()
