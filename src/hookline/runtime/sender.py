"""Sends one delivery over HTTP and reports what happened, never raising for the
receiver's faults. Connections go only to addresses the egress rules allow."""

from __future__ import annotations

import asyncio
import ssl
import time
from datetime import datetime
from typing import Any

import aiohttp

from hookline import __version__
from hookline.domain import egress
from hookline.domain.dispatch import RESPONSE_BODY_LIMIT, ErrorClass, SendResult
from hookline.domain.models import Dispatch, SentRequest
from hookline.domain.request import signed_request
from hookline.domain.retry import parse_retry_after
from hookline.runtime.egress import blocked_detail, egress_connector, is_blocked

USER_AGENT = f"Hookline/{__version__}"


class Sender:
    def __init__(
        self,
        *,
        allow: tuple[egress.IPNetwork, ...],
        timeout: float,
        max_connections: int,
        response_body_limit: int = RESPONSE_BODY_LIMIT,
    ) -> None:
        self._allow = allow
        self._urls = egress.UrlChecks(allow)
        self._body_limit = response_body_limit
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = egress_connector(
            self._allow,
            limit=self._max_connections,
            limit_per_host=0,
            ttl_dns_cache=60,
            enable_cleanup_closed=True,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            auto_decompress=True,
            headers={"User-Agent": USER_AGENT},
            skip_auto_headers=("Accept-Encoding",),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def build_request(
        self, d: Dispatch, now: datetime, *, traceparent: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The exact body and headers of one attempt."""
        return signed_request(d, now, traceparent=traceparent)

    async def send(
        self,
        d: Dispatch,
        now: datetime,
        *,
        traceparent: str | None = None,
        time_limit: float | None = None,
    ) -> SendResult:
        """One attempt; ``time_limit`` (the webhook's own timeout) replaces the server's
        when given."""
        assert self._session is not None, "Sender.start() was not called"
        started = time.perf_counter()
        sent: SentRequest | None = None

        def finish(**fields: Any) -> SendResult:
            ms = int((time.perf_counter() - started) * 1000)
            return SendResult(started_at=now, duration_ms=ms, request=sent, **fields)

        try:
            # The same check as at registration (the rules may have changed since);
            # the connector checks again on the address actually connected to.
            url = self._urls.check(d.endpoint.url)
        except egress.UrlRefused as refused:
            error = ErrorClass.INVALID_URL if refused.code == "invalid_url" else None
            return finish(error=error or ErrorClass.EGRESS_BLOCKED, error_detail=refused.reason)
        body, headers = self.build_request(d, now, traceparent=traceparent)
        # What aiohttp adds (Host, User-Agent, Content-Length, Accept) is recorded from the
        # request it actually sent; when it never got that far, the headers it was given.
        sent = SentRequest("POST", d.endpoint.url, _planned(headers, len(body)), body)
        try:
            async with self._session.post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=time_limit) if time_limit else self._timeout,
            ) as resp:
                sent = SentRequest(
                    "POST",
                    str(resp.request_info.url),
                    tuple((k, v) for k, v in resp.request_info.headers.items()),
                    body,
                )
                raw = await resp.content.read(self._body_limit) if self._body_limit else b""
                code = resp.status
                retry_after = parse_retry_after(resp.headers.get("Retry-After"), time.time())
                response_headers = tuple((k, v) for k, v in resp.headers.items())
            ok = 200 <= code < 300
            return finish(
                status_code=code,
                response_body=raw.decode("utf-8", errors="replace"),
                response_headers=response_headers,
                retry_after=retry_after,
                error=None if ok else ErrorClass.HTTP_STATUS,
                error_detail=None if ok else f"HTTP {code}",
            )
        except TimeoutError:
            limit = time_limit or self._timeout.total
            return finish(error=ErrorClass.TIMEOUT, error_detail=f"no response within {limit} s")
        except aiohttp.ClientConnectorError as exc:
            if is_blocked(exc):
                return finish(error=ErrorClass.EGRESS_BLOCKED, error_detail=blocked_detail(exc))
            if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
                return finish(error=ErrorClass.TLS, error_detail=str(exc))
            return finish(error=ErrorClass.CONNECTION, error_detail=str(exc))
        except aiohttp.InvalidURL as exc:
            return finish(error=ErrorClass.INVALID_URL, error_detail=str(exc))
        except (aiohttp.ClientError, ssl.SSLError, OSError, asyncio.IncompleteReadError) as exc:
            return finish(
                error=ErrorClass.CONNECTION, error_detail=f"{type(exc).__name__}: {exc}"[:500]
            )


def _planned(headers: dict[str, str], size: int) -> tuple[tuple[str, str], ...]:
    return (*headers.items(), ("User-Agent", USER_AGENT), ("Content-Length", str(size)))
