# ruff: noqa: RUF001 - look-alike characters are what these tests are about
"""URL forms an attacker might register, and what the egress rules make of each.

``{port}`` is a local receiver's port. Each form says what registration answers with no
allow list and with ``127.0.0.0/8`` allowed (``ok`` or the 422 code), whether it points
at this machine (so send-time tests may try it: nothing else is ever connected to), and
whether, once allowed, it reaches a receiver listening on 127.0.0.1.
"""

from __future__ import annotations

from dataclasses import dataclass

OK = "ok"
INVALID = "invalid_url"
REFUSED = "url_not_allowed"


@dataclass(frozen=True)
class Form:
    template: str
    without_allow: str
    with_loopback: str
    local: bool = True  # points at this machine: send-time tests try it
    reaches: bool = False  # once allowed, a receiver on 127.0.0.1 gets the request

    def url(self, port: int) -> str:
        return self.template.replace("{port}", str(port))


def _bad(template: str, *, local: bool = True) -> Form:
    return Form(template, INVALID, INVALID, local=local)


def _internal(template: str, *, local: bool = False) -> Form:
    return Form(template, REFUSED, REFUSED, local=local)


FORMS: list[Form] = [
    # Unicode digits and letters the client would fold to ASCII.
    _bad("http://１２７.０.０.１:{port}/"),
    _bad("http://１２７.0.0.1:{port}/"),
    _bad("http://١٢٧.٠.٠.١:{port}/"),
    _bad("http://𝟏𝟐𝟕.𝟎.𝟎.𝟏:{port}/"),
    _bad("http://１６９.２５４.１６９.２５４/latest/meta-data", local=False),
    _bad("http://１０.０.０.１/", local=False),
    _bad("http://ｌｏｃａｌｈｏｓｔ:{port}/"),
    _bad("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:{port}/"),
    _bad("http://ＥＸＡＭＰＬＥ.com/", local=False),
    # Numeric shorthand that some parsers and resolvers read as an IPv4 address.
    _bad("http://127.1:{port}/"),
    _bad("http://127.0.1:{port}/"),
    _bad("http://2130706433:{port}/"),
    _bad("http://0177.0.0.1:{port}/"),
    _bad("http://0x7f.1:{port}/"),
    _bad("http://0x7f000001:{port}/"),
    _bad("http://0x7f.0x0.0x0.0x1:{port}/"),
    _bad("http://017700000001:{port}/"),
    _bad("http://127.0.0.01:{port}/"),
    _bad("http://0:{port}/"),
    _bad("http://0x7f:{port}/"),
    _bad("http://1.2.3.4.5/", local=False),
    _bad("http://example.123/", local=False),
    # Trailing dots, percent-encoding, zone ids, odd characters.
    _bad("http://localhost.:{port}/"),
    _bad("http://LOCALHOST.:{port}/"),
    _bad("http://127.0.0.1.:{port}/"),
    _bad("http://example.com./", local=False),
    _bad("http://%31%32%37.0.0.1:{port}/"),
    _bad("http://127%2E0%2E0%2E1:{port}/"),
    _bad("http://[::1%25lo]:{port}/"),
    _bad("http://[fe80::1%25eth0]/", local=False),
    _bad("http://a_b.example/", local=False),
    _bad("http://127.0.0.1:{port}\\@example.com/"),
    _bad("http://127.0.0.1:{port}/a b"),
    _bad("http://127.0.0.1:{port}/a\nb"),
    _bad("http://127.0.0.1:{port}/a\x00b"),
    # Not http(s), no host, credentials, ports out of range.
    _bad("ftp://127.0.0.1:{port}/"),
    _bad("gopher://127.0.0.1:{port}/"),
    _bad("file:///etc/passwd", local=False),
    _bad("javascript:alert(1)", local=False),
    _bad("http:///x", local=False),
    _bad("127.0.0.1:{port}/"),
    _bad("http://user:pw@127.0.0.1:{port}/"),
    _bad("http://example.com@127.0.0.1:{port}/"),
    _bad("http://127.0.0.1:0/", local=False),
    _bad("http://127.0.0.1:99999/", local=False),
    # Internal addresses, plain and inside IPv6, that 127.0.0.0/8 does not open.
    _internal("http://0.0.0.0:{port}/", local=True),
    _internal("http://[::]:{port}/", local=True),
    _internal("http://[::1]:{port}/", local=True),
    _internal("http://[0:0:0:0:0:0:0:1]:{port}/", local=True),
    _internal("http://10.0.0.1/"),
    _internal("http://172.16.0.1/"),
    _internal("http://192.168.1.1/"),
    _internal("http://100.100.100.200/"),
    _internal("http://169.254.169.254/latest/meta-data"),
    _internal("http://224.0.0.1/"),
    _internal("http://255.255.255.255/"),
    _internal("http://[fd00::1]/"),
    _internal("http://[fe80::1]/"),
    _internal("http://[ff02::1]/"),
    _internal("http://[::ffff:169.254.169.254]/"),
    _internal("http://[::ffff:a9fe:a9fe]/"),
    _internal("http://[::ffff:10.0.0.1]/"),
    _internal("http://[::169.254.169.254]/"),
    _internal("http://[2002:a9fe:a9fe::]/"),
    _internal("http://[2002:a00:1::]/"),
    _internal("http://[64:ff9b::a9fe:a9fe]/"),
    _internal("http://[64:ff9b::10.0.0.1]/"),
    _internal("http://[64:ff9b:1::a9fe:a9fe]/"),
    _internal("http://[64:ff9b:1::7f00:1]/"),
    _internal("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/"),  # Teredo, client 192.0.2.45
    _internal("http://[2001:db8::1]/"),
    # Loopback in every form: refused by default, allowed once 127.0.0.0/8 is.
    Form("http://127.0.0.1:{port}/", REFUSED, OK, reaches=True),
    Form("http://127.0.0.1:{port}/hooks?a=b", REFUSED, OK, reaches=True),
    Form("http://localhost:{port}/", REFUSED, OK, reaches=True),
    Form("http://LocalHost:{port}/", REFUSED, OK, reaches=True),
    Form("http://[::ffff:127.0.0.1]:{port}/", REFUSED, OK, reaches=True),
    Form("http://[::ffff:7f00:1]:{port}/", REFUSED, OK, reaches=True),
    Form("http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/", REFUSED, OK, reaches=True),
    Form("http://127.0.0.2:{port}/", REFUSED, OK),
    Form("http://sub.localhost:{port}/", REFUSED, OK),
    Form("http://ip6-localhost:{port}/", REFUSED, OK),
    Form("http://[::127.0.0.1]:{port}/", REFUSED, OK),
    Form("http://[2002:7f00:1::]:{port}/", REFUSED, OK),
    Form("http://[64:ff9b::7f00:1]:{port}/", REFUSED, OK),
    Form("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{port}/", REFUSED, OK),  # Teredo
    # Public destinations: accepted (never connected to by the tests).
    Form("https://example.com/hook", OK, OK, local=False),
    Form("HTTPS://EXAMPLE.COM/hook", OK, OK, local=False),
    Form("https://example.com:8443/a?b=c#d", OK, OK, local=False),
    Form("https://bücher.example/", OK, OK, local=False),
    Form("https://xn--bcher-kva.example/", OK, OK, local=False),
    Form("https://8.8.8.8/", OK, OK, local=False),
    Form("http://[2001:4860:4860::8888]/", OK, OK, local=False),
    Form("http://[::ffff:8.8.8.8]/", OK, OK, local=False),
    Form("http://[64:ff9b::808:808]/", OK, OK, local=False),
    Form("http://[2002:808:808::]/", OK, OK, local=False),
    Form("https://169.254.169.254.nip.io/", OK, OK, local=False),  # judged when resolved
]


def refused_somewhere() -> int:
    """How many forms the rules refuse in at least one of the two settings."""
    return sum(1 for f in FORMS if OK not in (f.without_allow, f.with_loopback))
