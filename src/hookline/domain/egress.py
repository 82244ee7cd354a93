"""Which URLs and network addresses deliveries and upstream calls may reach.

One decision, made twice on the same terms:

- **URL check** (:func:`check_url`, at registration and again before every send): the
  URL is parsed with ``yarl.URL``, the type the HTTP client itself uses, so what is
  checked is what will be connected to. Its host must be a canonical DNS name (ASCII
  letters, digits and hyphens, or IDNA that round-trips to what was written) or a
  canonical IP literal; anything a resolver or URL parser might read as a number
  (``127.1``, ``2130706433``, ``0x7f.1``, ``0``), Unicode digits and trailing-dot names
  are refused. A literal address must pass the address check below.
- **Address check** (:func:`address_allowed`, on every address a connection is opened
  to, resolved or literal): private, loopback, link-local, multicast, reserved,
  unspecified and other non-global (such as carrier-grade NAT) addresses are refused
  unless an allow-list network contains them. An IPv6 address that embeds an IPv4
  address (mapped, IPv4-compatible, 6to4, NAT64, Teredo) is judged by the IPv4 inside.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 2048


class UrlRefused(ValueError):
    """A URL deliveries may not use; ``code`` is the API error code."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (or single addresses) into networks; raises ValueError on a bad one."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


# -- addresses -----------------------------------------------------------------------------

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def _v4(bits: int) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(bits & 0xFFFFFFFF)


def _rfc6052(value: int, prefix_len: int) -> ipaddress.IPv4Address:
    """The IPv4 address RFC 6052 places after a NAT64 prefix of this length (bits 64-71
    are the reserved ``u`` octet and never carry address bits)."""
    octets = value.to_bytes(16, "big")
    where = {32: (4, 8), 40: (5, 10), 48: (6, 11), 56: (7, 12), 64: (9, 13), 96: (12, 16)}
    start, end = where[prefix_len]
    raw = bytes(b for i, b in enumerate(octets[start:end], start) if i != 8)
    return ipaddress.IPv4Address(raw[:4])


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (empty when it carries none).

    For the local-use NAT64 prefix the prefix length is not known, so every placement
    RFC 6052 allows is returned and each must pass.
    """
    value = int(address)
    if address in _MAPPED:
        return [_v4(value)]
    if address in _COMPATIBLE and value > 1:  # not :: or ::1, which are what they are
        return [_v4(value)]
    if address in _SIX_TO_FOUR:
        return [_v4(value >> 80)]
    if address in _NAT64:
        return [_v4(value)]
    if address in _NAT64_LOCAL:
        return [_rfc6052(value, n) for n in (48, 56, 64, 96)]
    teredo = address.teredo  # 2001::/32: the server's address and the client's
    if teredo is not None:
        return list(teredo)
    return []


def is_public(address: IPAddress) -> bool:
    """A globally routable unicast address (IPv6 carrying IPv4: judged by the IPv4)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner:
            return all(is_public(a) for a in inner)
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
    """May a connection be opened to this address? An allow-list network that contains
    the address as written decides first; then an IPv6 address carrying IPv4 is judged
    by the IPv4 inside; then only public addresses pass."""
    ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    allow = tuple(allow)
    if any(ip.version == net.version and ip in net for net in allow):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner:
            return all(address_allowed(a, allow) for a in inner)
    return is_public(ip)


# -- URLs ----------------------------------------------------------------------------------

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
# WHATWG URL parsers (and some resolvers) read a host whose last label is a number as
# an IPv4 address in shorthand: 127.1, 2130706433, 0x7f.1, 0177.0.0.1.
_NUMERIC_LABEL = re.compile(r"(?:[0-9]+|0x[0-9a-f]*)\Z")
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_LOOPBACK = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


def _written_host(text: str) -> str:
    """The host exactly as written in an absolute http(s) URL (before any normalising)."""
    rest = text.split("://", 1)[1] if "://" in text else ""
    authority = re.split(r"[/?#\\]", rest, maxsplit=1)[0]
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if ":" in host else host


def _check_name(written: str, url: URL) -> None:
    ascii_host = url.raw_host or ""
    if written.lower() != ascii_host and (written.isascii() or written.lower() != url.host):
        # The client would connect to something other than what was written: Unicode
        # digits or letters folded to ASCII (NFKC), or IDNA that does not round-trip.
        raise UrlRefused("invalid_url", f"the host {written!r} is not written canonically")
    if any(c.isnumeric() and not c.isascii() for c in written):
        # Digits of other scripts: some parsers read them as ASCII digits.
        raise UrlRefused("invalid_url", f"the host {written!r} has non-ASCII digits")
    if ascii_host.endswith("."):
        raise UrlRefused("invalid_url", "the host must not end with a dot")
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise UrlRefused("invalid_url", f"{written!r} is not a valid host name")
    if _NUMERIC_LABEL.match(labels[-1]):
        raise UrlRefused("invalid_url", f"{written!r} is not a canonical IP address or host name")


def check_url(text: str, allow: Iterable[IPNetwork]) -> URL:
    """The URL the HTTP client will use, if the egress rules let it be used at all.

    Decides everything that can be decided without DNS; names are checked again, on
    the addresses they resolve to, when the connection is made.

    Raises:
        UrlRefused: with code ``invalid_url`` (not a usable http(s) URL, or a host not
            written canonically) or ``url_not_allowed`` (an address or local name
            outside the egress rules).
    """
    allow = tuple(allow)
    if len(text) > MAX_URL_LENGTH:
        raise UrlRefused("invalid_url", f"the URL is longer than {MAX_URL_LENGTH}")
    if not text.isprintable() or any(c.isspace() for c in text):
        raise UrlRefused("invalid_url", "the URL must not contain spaces or control characters")
    try:
        url = URL(text)
        host = url.host
        port = url.port
    except (ValueError, UnicodeError, TypeError):
        raise UrlRefused("invalid_url", "the URL cannot be parsed") from None
    if url.scheme not in ("http", "https"):
        raise UrlRefused("invalid_url", "the URL must be http or https")
    if not host:
        raise UrlRefused("invalid_url", "the URL must name a host")
    if url.raw_user is not None or url.raw_password is not None or "@" in url.raw_authority:
        raise UrlRefused("invalid_url", "the URL must not carry credentials")
    if port is None or not 0 < port < 65536:
        raise UrlRefused("invalid_url", "the URL's port must be 1 to 65535")
    written = _written_host(text)
    address: IPAddress | None = None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        _check_name(written, url)
    if address is not None:
        if "%" in written or (address.version == 4 and written != str(address)):
            raise UrlRefused("invalid_url", f"{written!r} is not a canonical IP address")
        if not address_allowed(address, allow):
            raise UrlRefused(
                "url_not_allowed",
                f"{address} is not a public address and is not in the egress allow list",
            )
    elif _is_local_name(host) and not any(address_allowed(a, allow) for a in _LOOPBACK):
        raise UrlRefused("url_not_allowed", "localhost is not in the egress allow list")
    return url


class UrlChecks:
    """:func:`check_url` for one allow list, each URL decided once: the check needs no
    DNS and the allow list is fixed for the process, so a webhook's URL gets the same
    answer before every send. Keeps at most ``size`` answers (all dropped when full)."""

    def __init__(self, allow: Iterable[IPNetwork], size: int = 10_000) -> None:
        self.allow = tuple(allow)
        self._size = size
        self._answers: dict[str, URL | UrlRefused] = {}

    def check(self, text: str) -> URL:
        answer = self._answers.get(text)
        if answer is None:
            try:
                answer = check_url(text, self.allow)
            except UrlRefused as refused:
                answer = refused
            if len(self._answers) >= self._size:
                self._answers.clear()
            self._answers[text] = answer
        if isinstance(answer, UrlRefused):
            raise UrlRefused(answer.code, answer.reason)
        return answer


def _is_local_name(host: str) -> bool:
    return host in LOCAL_NAMES or host.endswith(".localhost")


def url_problem(url: str, allow: Iterable[IPNetwork]) -> tuple[str, str] | None:
    """``(code, reason)`` when :func:`check_url` refuses a URL, else None."""
    try:
        check_url(url, allow)
    except UrlRefused as refused:
        return refused.code, refused.reason
    return None
