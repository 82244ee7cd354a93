"""Which network addresses deliveries may connect to.

Private, loopback, link-local, multicast, reserved, unspecified and other non-global
(such as carrier-grade NAT) addresses are refused unless an allow-list network contains
them. Checks take the address actually connected to, so a name that resolves to an
internal address is refused as well.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (or single addresses) into networks; raises ValueError on a bad one."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        # Not "private" to ipaddress, yet not internet-routable either: 100.64.0.0/10
        # (carrier-grade NAT), where some clouds serve instance metadata.
        or not address.is_global
    )


def address_allowed(address: str | IPAddress, allow: Iterable[IPNetwork]) -> bool:
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if any(ip.version == net.version and ip in net for net in allow):
        return True
    return is_public(ip)


def literal_host(url: str) -> IPAddress | None:
    """The IP address a URL names directly, or None when it names a host."""
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def url_problem(url: str, allow: Iterable[IPNetwork]) -> tuple[str, str] | None:
    """``(code, reason)`` when a callback URL is unusable before any lookup, else None.

    Only what can be decided without DNS: the scheme, a host, and literal or
    well-known-local addresses. Names are checked again at connect time.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "invalid_url", "the URL must be http or https"
    if not parts.hostname:
        return "invalid_url", "the URL must name a host"
    if parts.username or parts.password:
        return "invalid_url", "the URL must not carry credentials"
    allow = tuple(allow)
    literal = literal_host(url)
    if literal is not None and not address_allowed(literal, allow):
        return (
            "url_not_allowed",
            f"{literal} is not a public address and is not in the egress allow list",
        )
    if parts.hostname.lower() in LOCAL_NAMES and not any(
        address_allowed(a, allow) for a in ("127.0.0.1", "::1")
    ):
        return "url_not_allowed", "localhost is not in the egress allow list"
    return None
