"""Sends one delivery over HTTP and reports what happened, never raising for the
receiver's faults. Connections go only to addresses the egress rules allow."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from hookline import __version__
from hookline.domain import egress
from hookline.domain.dispatch import RESPONSE_BODY_LIMIT, ErrorClass, SendResult
from hookline.domain.envelope import event_body
from hookline.domain.models import Dispatch
from hookline.domain.retry import parse_retry_after
from hookline.domain.signing import signature_headers

USER_AGENT = f"Hookline/{__version__}"


class EgressBlocked(OSError):
    """The destination resolves only to addresses deliveries may not reach."""


class EgressResolver(AbstractResolver):
    """Resolves names, then keeps only the addresses the allow rules permit, so the
    connection is made to a checked address (no DNS-rebinding gap)."""

    def __init__(self, allow: tuple[egress.IPNetwork, ...]) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._allow = allow

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed = [r for r in found if egress.address_allowed(r["host"], self._allow)]
        if not allowed:
            raise EgressBlocked(f"{host} resolves only to addresses outside the egress rules")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class Sender:
    def __init__(
        self,
        *,
        allow: tuple[egress.IPNetwork, ...],
        timeout: float,
        max_connections: int,
    ) -> None:
        self._allow = allow
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            resolver=EgressResolver(self._allow),
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

    def build_request(self, d: Dispatch, now: datetime) -> tuple[bytes, dict[str, str]]:
        """The exact body and headers of one attempt."""
        ep, msg = d.endpoint, d.message
        body = event_body(
            message_id=msg.id,
            event_type=msg.event_type,
            webhook_id=ep.id,
            idempotency_key=msg.idempotency_key,
            created_at=msg.created_at,
            payload_json=msg.payload,
        )
        headers = dict(ep.headers)
        headers["Content-Type"] = "application/json"
        headers.update(
            signature_headers(
                scheme=ep.scheme,
                header=ep.signature_header,
                secrets=ep.signing_secrets(now),
                msg_id=msg.id,
                timestamp=int(now.timestamp()),
                body=body,
            )
        )
        return body, headers

    async def send(self, d: Dispatch, now: datetime) -> SendResult:
        assert self._session is not None, "Sender.start() was not called"
        started = time.perf_counter()

        def finish(**fields: Any) -> SendResult:
            ms = int((time.perf_counter() - started) * 1000)
            return SendResult(started_at=now, duration_ms=ms, **fields)

        literal = egress.literal_host(d.endpoint.url)
        if literal is not None and not egress.address_allowed(literal, self._allow):
            return finish(
                error=ErrorClass.EGRESS_BLOCKED,
                error_detail=f"{literal} is outside the egress rules",
            )
        body, headers = self.build_request(d, now)
        try:
            async with self._session.post(
                d.endpoint.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                raw = await resp.content.read(RESPONSE_BODY_LIMIT)
                code = resp.status
                retry_after = parse_retry_after(resp.headers.get("Retry-After"), time.time())
            ok = 200 <= code < 300
            return finish(
                status_code=code,
                response_body=raw.decode("utf-8", errors="replace"),
                retry_after=retry_after,
                error=None if ok else ErrorClass.HTTP_STATUS,
                error_detail=None if ok else f"HTTP {code}",
            )
        except TimeoutError:
            return finish(
                error=ErrorClass.TIMEOUT, error_detail=f"no response within {self._timeout.total} s"
            )
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, EgressBlocked) or isinstance(exc.__cause__, EgressBlocked):
                return finish(
                    error=ErrorClass.EGRESS_BLOCKED, error_detail=str(exc.__cause__ or exc.os_error)
                )
            if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
                return finish(error=ErrorClass.TLS, error_detail=str(exc))
            return finish(error=ErrorClass.CONNECTION, error_detail=str(exc))
        except aiohttp.InvalidURL as exc:
            return finish(error=ErrorClass.INVALID_URL, error_detail=str(exc))
        except (aiohttp.ClientError, ssl.SSLError, OSError, asyncio.IncompleteReadError) as exc:
            return finish(
                error=ErrorClass.CONNECTION, error_detail=f"{type(exc).__name__}: {exc}"[:500]
            )
