"""A small Ethereum JSON-RPC client over aiohttp, under the same egress rules as webhooks.

Every failure (connection, timeout, HTTP status, a JSON-RPC error object, an answer that
is not JSON-RPC) raises :class:`RpcError`, which the runner backs off on. Nothing is
retried here: the caller retries a whole step from its committed state.
"""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp
import orjson

from hookline.domain import egress
from hookline.runtime.egress import egress_connector
from hookline.runtime.sender import USER_AGENT
from hookline.sources.base import FollowError

MAX_ANSWER_BYTES = 64 * 1024 * 1024  # a full block of a busy chain fits well inside


class RpcError(FollowError):
    """The node could not be reached or did not answer as JSON-RPC says it must."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class MethodNotFound(RpcError):
    """The node does not offer this method (JSON-RPC error -32601)."""


class RpcClient:
    def __init__(self, url: str, *, allow: tuple[egress.IPNetwork, ...], timeout: float) -> None:
        self.url = url
        self._allow = allow
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = egress_connector(self._allow, limit=4, ttl_dns_cache=60)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers={"User-Agent": USER_AGENT}
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, *params: Any) -> Any:
        try:
            # As at registration; the connector checks the address connected to as well.
            url = egress.check_url(self.url, self._allow)
        except egress.UrlRefused as refused:
            raise RpcError(refused.reason) from None
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        try:
            async with self._open().post(
                url,
                data=orjson.dumps(body),
                headers={"Content-Type": "application/json"},
                allow_redirects=False,
            ) as response:
                raw = await response.content.read(MAX_ANSWER_BYTES + 1)
                status = response.status
        except TimeoutError:
            raise RpcError(f"{method}: the node did not answer in time") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise RpcError(f"{method}: {type(exc).__name__}: {exc}") from None
        if len(raw) > MAX_ANSWER_BYTES:
            raise RpcError(f"{method}: the answer is larger than {MAX_ANSWER_BYTES} bytes")
        if status != 200:
            raise RpcError(f"{method}: the node answered HTTP {status}")
        try:
            answer = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise RpcError(f"{method}: the node's answer is not JSON") from None
        if not isinstance(answer, dict):
            raise RpcError(f"{method}: the node's answer is not a JSON-RPC response")
        error = answer.get("error")
        if error is not None:
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message") if isinstance(error, dict) else str(error)
            cls = MethodNotFound if code == -32601 else RpcError
            raise cls(f"{method}: {message} ({code})", code=code if isinstance(code, int) else None)
        if "result" not in answer:
            raise RpcError(f"{method}: the answer has no result")
        return answer["result"]
