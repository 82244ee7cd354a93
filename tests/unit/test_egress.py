from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from hookline.domain import egress
from hookline.domain.egress import (
    IPNetwork,
    address_allowed,
    is_public,
    parse_networks,
    url_problem,
)

NOTHING: tuple[IPNetwork, ...] = ()

INTERNAL = [
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.10",
    "127.0.0.1",  # loopback
    "127.255.255.254",
    "169.254.169.254",  # link-local (cloud metadata)
    "0.0.0.0",  # noqa: S104 - unspecified, as a destination
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",  # unique local
    "fd12:3456::1",
    "ff02::1",  # multicast
    "::ffff:127.0.0.1",  # IPv4-mapped forms of the above
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:0.0.0.0",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2001:4860:4860::8888", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused_by_default(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    assert not address_allowed(address, NOTHING)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))
    assert address_allowed(address, NOTHING)
    assert address_allowed(ipaddress.ip_address(address), NOTHING)


@pytest.mark.parametrize(
    ("address", "allow"),
    [
        ("127.0.0.1", "127.0.0.0/8"),
        ("127.0.0.1", "127.0.0.1"),
        ("10.20.30.40", "10.0.0.0/8"),
        ("::1", "::1/128"),
        ("fd00::5", "fd00::/8"),
    ],
)
def test_the_allow_list_opens_internal_networks(address: str, allow: str) -> None:
    networks = parse_networks([allow])
    assert address_allowed(address, networks)
    assert url_problem(f"http://{_host(address)}:8080/hook", networks) is None


@pytest.mark.parametrize(
    ("address", "allow"),
    [
        ("127.0.0.2", "127.0.0.1/32"),
        ("10.20.30.40", "192.168.0.0/16"),
        ("127.0.0.1", "::/0"),  # an IPv6 network never contains an IPv4 address
        ("::1", "0.0.0.0/0"),
    ],
)
def test_the_allow_list_opens_only_what_it_contains(address: str, allow: str) -> None:
    networks = parse_networks([allow])
    assert not address_allowed(address, networks)
    assert url_problem(f"http://{_host(address)}/", networks) == (
        "url_not_allowed",
        f"{address} is not a public address and is not in the egress allow list",
    )


@given(st.ip_addresses(v=4))
def test_a_mapped_ipv4_address_is_judged_as_the_address_it_maps(
    v4: ipaddress.IPv4Address,
) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{v4}")
    assert is_public(mapped) is is_public(v4)


@given(st.ip_addresses(), st.integers(min_value=0, max_value=128))
def test_any_address_is_allowed_once_a_network_containing_it_is(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: int
) -> None:
    prefix = min(prefix, address.max_prefixlen)
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    assert address_allowed(address, [network])
    assert address_allowed(str(address), [network])


@given(st.ip_addresses())
def test_without_an_allow_list_only_public_addresses_pass(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    assert address_allowed(address, NOTHING) is is_public(address)


def test_parse_networks_strips_skips_blanks_and_accepts_host_bits() -> None:
    assert parse_networks([" 127.0.0.0/8 ", "", "  ", "10.1.2.3/8", "::1"]) == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "localhost", "300.1.1.1"])
def test_parse_networks_refuses_what_is_not_a_network(bad: str) -> None:
    with pytest.raises(ValueError, match="does not appear to be"):
        parse_networks([bad])


@pytest.mark.parametrize(
    ("url", "code", "reason"),
    [
        ("ftp://example.com/x", "invalid_url", "the URL must be http or https"),
        ("example.com/hook", "invalid_url", "the URL must be http or https"),
        ("javascript:alert(1)", "invalid_url", "the URL must be http or https"),
        ("http://", "invalid_url", "the URL must name a host"),
        ("https:///path", "invalid_url", "the URL must name a host"),
        ("https://user:pw@example.com/", "invalid_url", "the URL must not carry credentials"),
        ("https://user@example.com/", "invalid_url", "the URL must not carry credentials"),
        (
            "http://169.254.169.254/latest/meta-data",
            "url_not_allowed",
            "169.254.169.254 is not a public address and is not in the egress allow list",
        ),
        (
            "http://[::ffff:127.0.0.1]:8000/",
            "url_not_allowed",
            "::ffff:7f00:1 is not a public address and is not in the egress allow list",
        ),
        ("http://localhost:8000/", "url_not_allowed", "localhost is not in the egress allow list"),
        ("http://LocalHost/", "url_not_allowed", "localhost is not in the egress allow list"),
        ("http://ip6-localhost/", "url_not_allowed", "localhost is not in the egress allow list"),
    ],
)
def test_url_problems(url: str, code: str, reason: str) -> None:
    assert url_problem(url, NOTHING) == (code, reason)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook",
        "http://example.com:8080/a?b=c",
        "https://8.8.8.8/",
        "HTTPS://X.Y/",
    ],
)
def test_usable_urls_have_no_problem(url: str) -> None:
    assert url_problem(url, NOTHING) is None


@pytest.mark.parametrize("allow", ["127.0.0.0/8", "::1/128"])
def test_localhost_is_usable_once_either_loopback_is_allowed(allow: str) -> None:
    assert url_problem("http://localhost:8000/hook", parse_networks([allow])) is None


def test_url_problem_accepts_a_one_shot_iterable_of_networks() -> None:
    # The allow list is consulted twice (literal and localhost checks) for one URL.
    allow = iter(parse_networks(["127.0.0.0/8"]))
    assert url_problem("http://localhost/", allow) is None


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.mark.parametrize("address", ["100.64.0.1", "100.100.100.200", "::ffff:100.127.255.254"])
def test_shared_address_space_is_refused_by_default(address: str) -> None:
    # 100.64.0.0/10 (carrier-grade NAT) is not "private" to the ipaddress module but is
    # not reachable from the internet either; some clouds serve instance metadata there.
    assert not address_allowed(address, NOTHING)
    assert address_allowed(address, parse_networks(["100.64.0.0/10", "::ffff:0:0/96"]))


def test_url_checks_give_check_urls_answers_once_per_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    allow = parse_networks(["127.0.0.0/8"])
    urls = ["http://127.0.0.1:9/hook", "http://10.0.0.1/", "ftp://x.y/", "http://localhost/"]
    expected = {u: url_problem(u, allow) or egress.check_url(u, allow) for u in urls}
    calls: list[str] = []
    real = egress.check_url

    def counted(text: str, allow: tuple[IPNetwork, ...]) -> URL:
        calls.append(text)
        return real(text, allow)

    monkeypatch.setattr(egress, "check_url", counted)

    def answer(checks: egress.UrlChecks, url: str) -> object:
        try:
            return checks.check(url)
        except egress.UrlRefused as refused:
            return (refused.code, refused.reason)

    one_each = egress.UrlChecks(allow)
    for _ in range(3):
        assert {u: answer(one_each, u) for u in urls} == expected
    assert calls == urls
    # Four URLs through room for three: each time it fills, what it kept goes.
    calls.clear()
    small = egress.UrlChecks(allow, size=3)
    for _ in range(3):
        assert {u: answer(small, u) for u in urls} == expected
    assert len(calls) > len(urls)
