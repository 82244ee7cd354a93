"""The HTTP client's side of the egress rules: a connector that connects only to
addresses :func:`hookline.domain.egress.address_allowed` permits.

Two checks, on what is actually connected to:

- the resolver drops resolved addresses outside the rules, so a name with one public
  and one private address still reaches the public one;
- the socket factory checks the peer address of every socket the connector opens,
  literal addresses included (aiohttp never asks the resolver about an IP literal).
  This is the line nothing bypasses, whatever a URL parser made of the host.
"""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.connector import AddrInfoType

from hookline.domain import egress

BLOCKED_MARK = "outside the egress rules"


class EgressBlocked(OSError):
    """The destination resolves only to addresses deliveries may not reach."""


class EgressResolver(AbstractResolver):
    """Resolves names, then keeps only the addresses the allow rules permit."""

    def __init__(self, allow: tuple[egress.IPNetwork, ...]) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._allow = allow

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed = [r for r in found if egress.address_allowed(r["host"], self._allow)]
        if not allowed:
            raise EgressBlocked(f"{host} resolves only to addresses {BLOCKED_MARK}")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def egress_connector(allow: tuple[egress.IPNetwork, ...], **options: Any) -> aiohttp.TCPConnector:
    """A ``TCPConnector`` that opens sockets only to allowed addresses."""

    def checked_socket(addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        peer = str(sockaddr[0])
        if not egress.address_allowed(peer, allow):
            raise EgressBlocked(f"{peer} is {BLOCKED_MARK}")
        return socket.socket(family=family, type=type_, proto=proto)

    return aiohttp.TCPConnector(
        resolver=EgressResolver(allow), socket_factory=checked_socket, **options
    )


def is_blocked(exc: aiohttp.ClientConnectorError) -> bool:
    """Did the egress rules (not the network) stop this connection?"""
    cause = exc.__cause__ or exc.os_error
    # With several addresses the connector raises one OSError naming them all.
    return isinstance(cause, EgressBlocked) or BLOCKED_MARK in str(cause)


def blocked_detail(exc: aiohttp.ClientConnectorError) -> str:
    return str(exc.__cause__ or exc.os_error)[:500]
