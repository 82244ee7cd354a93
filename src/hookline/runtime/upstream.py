"""Requests to API owners' upstreams, under the same egress rules as webhooks.

Never raises for the upstream's faults: every request ends in an :class:`Answer`.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from hookline.domain import egress
from hookline.domain.retry import parse_retry_after
from hookline.runtime.egress import blocked_detail, egress_connector, is_blocked
from hookline.runtime.sender import USER_AGENT

RESULT_LIMIT = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int | None = None  # None: no response at all
    body: Any = None
    retry_after: float | None = None
    error: str | None = None  # connection_error, egress_blocked, invalid_url, result_too_large
    error_detail: str | None = None

    @property
    def final_failure(self) -> bool:
        """A failure another attempt cannot fix."""
        return self.error in ("egress_blocked", "invalid_url", "result_too_large")


class Upstream:
    def __init__(self, *, allow: tuple[egress.IPNetwork, ...], max_connections: int) -> None:
        self._allow = allow
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = egress_connector(
            self._allow,
            limit=self._max_connections,
            ttl_dns_cache=60,
            enable_cleanup_closed=True,
        )
        # No total timeout here: the runner bounds each call by its own deadline.
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
            headers={"User-Agent": USER_AGENT},
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Any,
        body: Any,
        headers: dict[str, str],
    ) -> Answer:
        assert self._session is not None, "Upstream.start() was not called"
        try:
            # As at registration; the connector checks the address connected to as well.
            checked = egress.check_url(url, self._allow)
        except egress.UrlRefused as refused:
            error = "invalid_url" if refused.code == "invalid_url" else "egress_blocked"
            return Answer(error=error, error_detail=refused.reason)
        query, payload = _split(method, params, body)
        try:
            async with self._session.request(
                method,
                checked,
                params=query,
                data=payload,
                headers={**headers, "Content-Type": "application/json"} if payload else headers,
                allow_redirects=False,
            ) as resp:
                raw = await resp.content.read(RESULT_LIMIT + 1)
                if len(raw) > RESULT_LIMIT:
                    return Answer(
                        status_code=resp.status,
                        error="result_too_large",
                        error_detail=f"the upstream's answer is over {RESULT_LIMIT} bytes",
                    )
                return Answer(
                    status_code=resp.status,
                    body=_decode(raw, resp.headers.get("Content-Type", "")),
                    retry_after=_retry_after(resp.headers.get("Retry-After")),
                )
        except aiohttp.ClientConnectorError as exc:
            if is_blocked(exc):
                return Answer(error="egress_blocked", error_detail=blocked_detail(exc))
            return Answer(error="connection_error", error_detail=str(exc)[:500])
        except aiohttp.InvalidURL as exc:
            return Answer(error="invalid_url", error_detail=str(exc))
        except (aiohttp.ClientError, ssl.SSLError, OSError, asyncio.IncompleteReadError) as exc:
            return Answer(
                error="connection_error", error_detail=f"{type(exc).__name__}: {exc}"[:500]
            )


def _split(method: str, params: Any, body: Any) -> tuple[dict[str, str] | None, bytes | None]:
    """GET and DELETE carry ``params`` in the query string; other methods send them (or
    ``body``) as a JSON body."""
    if method in ("GET", "DELETE") and isinstance(params, dict):
        return {
            str(k): v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in params.items()
        }, (orjson.dumps(body) if body is not None else None)
    value = body if body is not None else params
    return None, orjson.dumps(value) if value is not None else None


def _decode(raw: bytes, content_type: str) -> Any:
    """JSON answers become JSON values in the result; anything else is kept as text."""
    if "json" in content_type.lower():
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return raw.decode("utf-8", errors="replace")


def _retry_after(value: str | None) -> float | None:
    return parse_retry_after(value, time.time())
