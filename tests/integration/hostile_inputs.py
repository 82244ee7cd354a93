"""A table of hostile requests and the answer each must get: a 4xx with a stable code
(or, for a few inputs on the edge, acceptance), never a 500.

Paths may name ``{webhook}``, ``{event}``, ``{api}``, ``{account}`` and ``{delivery}``:
the test fills them with real ids of the account under attack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BIG = "123456789012345678901234567890"
NUL = "\\u0000"
LONE = "\\ud800"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    body: bytes | None = None
    status: int = 422
    code: str | None = "invalid_string"
    admin: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.body is None or isinstance(self.body, bytes), self.name


def _deep(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


def _deep_objects(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def event(data: str, **extra: str) -> bytes:
    fields = "".join(f',"{k}":{v}' for k, v in extra.items())
    return f'{{"type":"a.b","data":{data}{fields}}}'.encode()


def webhook(**fields: str) -> bytes:
    rest = "".join(f',"{k}":{v}' for k, v in fields.items())
    return f'{{"callback_url":"http://127.0.0.1:9/hook"{rest}}}'.encode()


def api(**fields: str) -> bytes:
    rest = "".join(f',"{k}":{v}' for k, v in fields.items())
    return f'{{"name":"x","upstream_url":"http://127.0.0.1:9/up"{rest}}}'.encode()


def call(**fields: str) -> bytes:
    rest = "".join(f',"{k}":{v}' for k, v in fields.items())
    return f'{{"api_id":"{{api}}"{rest}}}'.encode()


INT_RANGE = "integer_out_of_range"
NUM_RANGE = "number_out_of_range"
DEEP = "json_too_deep"
BAD_JSON = "invalid_json"
VALIDATION = "validation_error"

CASES: list[Case] = [
    # -- numbers -------------------------------------------------------------------------
    Case("int beyond 64 bits in data", "POST", "/v1/events", event(BIG), code=INT_RANGE),
    Case("negative int beyond 64 bits", "POST", "/v1/events", event("-" + BIG), code=INT_RANGE),
    Case("2**63 in data", "POST", "/v1/events", event(str(2**63)), code=INT_RANGE),
    Case("-2**63-1 in data", "POST", "/v1/events", event(str(-(2**63) - 1)), code=INT_RANGE),
    Case("5000-digit int", "POST", "/v1/events", event("9" * 5000), code=INT_RANGE),
    Case("2**63-1 is accepted", "POST", "/v1/events", event(str(2**63 - 1)), 202, None),
    Case("-2**63 is accepted", "POST", "/v1/events", event(str(-(2**63))), 202, None),
    Case("float overflow", "POST", "/v1/events", event("1e999"), code=NUM_RANGE),
    Case("negative float overflow", "POST", "/v1/events", event("-1e999"), code=NUM_RANGE),
    Case("float underflow is zero", "POST", "/v1/events", event("1e-999"), 202, None),
    Case("NaN literal", "POST", "/v1/events", event("NaN"), 400, BAD_JSON),
    Case("Infinity literal", "POST", "/v1/events", event("Infinity"), 400, BAD_JSON),
    Case("-Infinity literal", "POST", "/v1/events", event("-Infinity"), 400, BAD_JSON),
    Case(
        "big int in batch",
        "POST",
        "/v1/events/batch",
        b'{"events":[{"type":"a","data":' + BIG.encode() + b"}]}",
        code=INT_RANGE,
    ),
    # -- nesting ---------------------------------------------------------------------------
    Case("65 levels of arrays", "POST", "/v1/events", event(_deep(64)), code=DEEP),
    Case("64 levels in all is accepted", "POST", "/v1/events", event(_deep(63)), 202, None),
    Case("300 levels of arrays", "POST", "/v1/events", event(_deep(300)), code=DEEP),
    Case("100000 levels of arrays", "POST", "/v1/events", event(_deep(100_000)), code=DEEP),
    Case("65 levels of objects", "POST", "/v1/events", event(_deep_objects(64)), code=DEEP),
    Case("unclosed nesting", "POST", "/v1/events", b"[" * 70, code=DEEP),
    Case(
        "brackets inside strings do not count",
        "POST",
        "/v1/events",
        event('"' + "[" * 500 + '"'),
        202,
        None,
    ),
    Case("deep call params", "POST", "/v1/calls", call(params=_deep(80)), code=DEEP),
    Case("deep call body", "POST", "/v1/calls", call(body=_deep_objects(80)), code=DEEP),
    Case("deep retry policy", "POST", "/v1/webhooks", webhook(retry_policy=_deep(70)), code=DEEP),
    # -- strings -------------------------------------------------------------------------
    Case("lone high surrogate in data", "POST", "/v1/events", event(f'"{LONE}"')),
    Case("lone low surrogate in data", "POST", "/v1/events", event('"\\udc00"')),
    Case("reversed surrogate pair", "POST", "/v1/events", event('"\\udc00\\ud800"')),
    Case("high surrogate then text", "POST", "/v1/events", event('"\\ud83dx"')),
    Case("a valid pair is accepted", "POST", "/v1/events", event('"\\ud83d\\ude00"'), 202, None),
    Case("NUL in data", "POST", "/v1/events", event(f'"{NUL}"')),
    Case("NUL in a data key", "POST", "/v1/events", event(f'{{"{NUL}":1}}')),
    Case("lone surrogate in a data key", "POST", "/v1/events", event(f'{{"{LONE}":1}}')),
    Case("NUL deep inside data", "POST", "/v1/events", event(f'{{"a":[1,{{"b":"x{NUL}"}}]}}')),
    Case("NUL in type", "POST", "/v1/events", f'{{"type":"a{NUL}"}}'.encode()),
    Case("lone surrogate in type", "POST", "/v1/events", f'{{"type":"{LONE}"}}'.encode()),
    Case(
        "NUL in idempotency key",
        "POST",
        "/v1/events",
        f'{{"type":"a","idempotency_key":"{NUL}"}}'.encode(),
    ),
    Case(
        "surrogate in idempotency key",
        "POST",
        "/v1/events",
        f'{{"type":"a","idempotency_key":"{LONE}"}}'.encode(),
    ),
    Case(
        "lone surrogate in a batch",
        "POST",
        "/v1/events/batch",
        f'{{"events":[{{"type":"a"}},{{"type":"a","data":"{LONE}"}}]}}'.encode(),
    ),
    Case(
        "NUL in a batch key",
        "POST",
        "/v1/events/batch",
        f'{{"events":[{{"type":"a","idempotency_key":"{NUL}"}}]}}'.encode(),
    ),
    Case(
        "a raw control character",
        "POST",
        "/v1/events",
        b'{"type":"a","data":"\x01"}',
        400,
        BAD_JSON,
    ),
    # -- encoding and syntax ---------------------------------------------------------------
    Case("invalid UTF-8", "POST", "/v1/events", b'{"type":"a","data":"\xff"}', 400, BAD_JSON),
    Case(
        "UTF-8 encoded surrogate",
        "POST",
        "/v1/events",
        b'{"type":"a","data":"\xed\xa0\x80"}',
        400,
        BAD_JSON,
    ),
    Case("overlong NUL", "POST", "/v1/events", b'{"type":"a","data":"\xc0\x80"}', 400, BAD_JSON),
    Case("UTF-8 byte order mark", "POST", "/v1/events", b'\xef\xbb\xbf{"type":"a"}', 400, BAD_JSON),
    Case("UTF-16 body", "POST", "/v1/events", '{"type":"a"}'.encode("utf-16"), 400, BAD_JSON),
    Case("truncated JSON", "POST", "/v1/events", b'{"type":"a","data":', 400, BAD_JSON),
    Case("trailing garbage", "POST", "/v1/events", b'{"type":"a"} x', 400, BAD_JSON),
    Case("single quotes", "POST", "/v1/events", b"{'type':'a'}", 400, BAD_JSON),
    Case("array body", "POST", "/v1/events", b"[]", code=VALIDATION),
    Case("string body", "POST", "/v1/events", b'"a.b"', code=VALIDATION),
    Case("null body", "POST", "/v1/events", b"null", code=VALIDATION),
    Case("empty body", "POST", "/v1/events", b"", code=VALIDATION),
    Case("whitespace body", "POST", "/v1/events", b"  \n ", 400, BAD_JSON),
    Case(
        "text/plain JSON is not read",
        "POST",
        "/v1/events",
        b'{"type":"a"}',
        code=VALIDATION,
        headers={"content-type": "text/plain"},
    ),
    Case(
        "+json content type is guarded",
        "POST",
        "/v1/events",
        event(f'"{NUL}"'),
        headers={"content-type": "application/vnd.acme+json"},
    ),
    Case(
        "charset parameter is guarded",
        "POST",
        "/v1/events",
        event(f'"{LONE}"'),
        headers={"content-type": "application/json; charset=utf-8"},
    ),
    Case(
        "latin-1 body",
        "POST",
        "/v1/events",
        '{"type":"a","data":"é"}'.encode("latin-1"),
        400,
        BAD_JSON,
        headers={"content-type": "application/json; charset=latin-1"},
    ),
    Case(
        "body over the size limit",
        "POST",
        "/v1/events",
        event('"' + "x" * (1024 * 1024) + '"'),
        413,
        "payload_too_large",
    ),
    # -- sizes ---------------------------------------------------------------------------
    Case(
        "type of 256 characters",
        "POST",
        "/v1/events",
        f'{{"type":"{"a" * 256}"}}'.encode(),
        code=VALIDATION,
    ),
    Case(
        "idempotency key of 256",
        "POST",
        "/v1/events",
        f'{{"type":"a","idempotency_key":"{"k" * 256}"}}'.encode(),
        code=VALIDATION,
    ),
    Case(
        "idempotency header of 256",
        "POST",
        "/v1/events",
        b'{"type":"a"}',
        code="invalid_idempotency_key",
        headers={"idempotency-key": "k" * 256},
    ),
    Case(
        "batch of 501",
        "POST",
        "/v1/events/batch",
        b'{"events":[' + b",".join([b'{"type":"a"}'] * 501) + b"]}",
        code=VALIDATION,
    ),
    Case("empty batch", "POST", "/v1/events/batch", b'{"events":[]}', code=VALIDATION),
    Case(
        "257 event patterns",
        "POST",
        "/v1/webhooks",
        webhook(events="[" + ",".join(['"a.b"'] * 257) + "]"),
        code=VALIDATION,
    ),
    Case(
        "event pattern of 256",
        "POST",
        "/v1/webhooks",
        webhook(events=f'["{"a" * 256}"]'),
        code=VALIDATION,
    ),
    Case(
        "33 custom headers",
        "POST",
        "/v1/webhooks",
        webhook(headers="{" + ",".join(f'"X-H{i}":"v"' for i in range(33)) + "}"),
        code=VALIDATION,
    ),
    Case(
        "header value of 1025",
        "POST",
        "/v1/webhooks",
        webhook(headers=f'{{"X-A":"{"v" * 1025}"}}'),
        code=VALIDATION,
    ),
    Case(
        "header name of 65",
        "POST",
        "/v1/webhooks",
        webhook(headers=f'{{"{"X" * 65}":"v"}}'),
        code=VALIDATION,
    ),
    Case(
        "header value not a string",
        "POST",
        "/v1/webhooks",
        webhook(headers='{"X-A":1}'),
        code=VALIDATION,
    ),
    Case(
        "description of 1001",
        "POST",
        "/v1/webhooks",
        webhook(description=f'"{"d" * 1001}"'),
        code=VALIDATION,
    ),
    Case(
        "callback url of 2049",
        "POST",
        "/v1/webhooks",
        f'{{"callback_url":"http://example.com/{"p" * 2030}"}}'.encode(),
        code=VALIDATION,
    ),
    Case(
        "secret of 301", "POST", "/v1/webhooks", webhook(secret=f'"{"s" * 301}"'), code=VALIDATION
    ),
    Case(
        "retry policy with 9 keys",
        "POST",
        "/v1/webhooks",
        webhook(retry_policy="{" + ",".join(f'"k{i}":1' for i in range(9)) + "}"),
        code=VALIDATION,
    ),
    Case(
        "schedule of 10000 delays",
        "POST",
        "/v1/webhooks",
        webhook(retry_policy='{"schedule":[' + ",".join(["1"] * 10000) + "]}"),
        code="invalid_retry_policy",
    ),
    Case(
        "schedule delay 1e308",
        "POST",
        "/v1/webhooks",
        webhook(retry_policy='{"schedule":[1e308]}'),
        code="invalid_retry_policy",
    ),
    Case(
        "schedule delay 2**63-1",
        "POST",
        "/v1/webhooks",
        webhook(retry_policy=f'{{"schedule":[{2**63 - 1}]}}'),
        code="invalid_retry_policy",
    ),
    Case(
        "schedule delay beyond 64 bits",
        "POST",
        "/v1/webhooks",
        webhook(retry_policy=f'{{"schedule":[{BIG}]}}'),
        code=INT_RANGE,
    ),
    Case(
        "max_attempts 2**63-1",
        "POST",
        "/v1/webhooks",
        webhook(retry_policy=f'{{"max_attempts":{2**63 - 1}}}'),
        code="invalid_retry_policy",
    ),
    Case(
        "max_age -1e308",
        "POST",
        "/v1/webhooks",
        webhook(retry_policy='{"schedule":[1],"max_age":-1e308}'),
        code="invalid_retry_policy",
    ),
    # -- webhook strings -------------------------------------------------------------------
    Case(
        "lone surrogate in a header value",
        "POST",
        "/v1/webhooks",
        webhook(headers=f'{{"X-A":"{LONE}"}}'),
    ),
    Case("NUL in a header value", "POST", "/v1/webhooks", webhook(headers=f'{{"X-A":"{NUL}"}}')),
    Case("NUL in a header name", "POST", "/v1/webhooks", webhook(headers=f'{{"X{NUL}":"v"}}')),
    Case(
        "non-ASCII header value",
        "POST",
        "/v1/webhooks",
        webhook(headers='{"X-A":"é"}'),
        code="invalid_headers",
    ),
    Case("NUL in an event pattern", "POST", "/v1/webhooks", webhook(events=f'["a{NUL}"]')),
    Case("NUL in description", "POST", "/v1/webhooks", webhook(description=f'"{NUL}"')),
    Case(
        "NUL in callback url",
        "POST",
        "/v1/webhooks",
        f'{{"callback_url":"http://example.com/{NUL}"}}'.encode(),
    ),
    Case(
        "surrogate in callback url",
        "POST",
        "/v1/webhooks",
        f'{{"callback_url":"http://example.com/{LONE}"}}'.encode(),
    ),
    Case("NUL in secret", "POST", "/v1/webhooks", webhook(secret=f'"whsec_{NUL}"')),
    Case(
        "NUL in signature header",
        "POST",
        "/v1/webhooks",
        webhook(signature=f'{{"scheme":"sha256-hex","header":"X{NUL}"}}'),
    ),
    Case(
        "patch: NUL description",
        "PATCH",
        "/v1/webhooks/{webhook}",
        f'{{"description":"{NUL}"}}'.encode(),
    ),
    Case(
        "patch: surrogate header",
        "PATCH",
        "/v1/webhooks/{webhook}",
        f'{{"headers":{{"X-A":"{LONE}"}}}}'.encode(),
    ),
    Case(
        "patch: 257 patterns",
        "PATCH",
        "/v1/webhooks/{webhook}",
        b'{"events":[' + b",".join([b'"a"'] * 257) + b"]}",
        code=VALIDATION,
    ),
    Case(
        "rotate: NUL secret",
        "POST",
        "/v1/webhooks/{webhook}/secret/rotate",
        f'{{"secret":"{NUL}"}}'.encode(),
    ),
    Case("key: NUL name", "POST", "/v1/keys", f'{{"name":"{NUL}"}}'.encode()),
    Case("key: surrogate name", "POST", "/v1/keys", f'{{"name":"{LONE}"}}'.encode()),
    Case(
        "signing secret: NUL", "POST", "/v1/signing-secret/rotate", f'{{"secret":"{NUL}"}}'.encode()
    ),
    # -- gateway ---------------------------------------------------------------------------
    Case("api: price beyond 64 bits", "POST", "/v1/apis", api(price=BIG), code=INT_RANGE),
    Case("api: price 2**63-1", "POST", "/v1/apis", api(price=str(2**63 - 1)), code="invalid_price"),
    Case("api: price -2**63", "POST", "/v1/apis", api(price=str(-(2**63))), code="invalid_price"),
    Case("api: timeout overflow", "POST", "/v1/apis", api(timeout="1e400"), code=NUM_RANGE),
    Case("api: timeout 1e308", "POST", "/v1/apis", api(timeout="1e308"), code="invalid_timeout"),
    Case("api: timeout -1", "POST", "/v1/apis", api(timeout="-1"), code="invalid_timeout"),
    Case(
        "api: max_concurrency 2**63-1",
        "POST",
        "/v1/apis",
        api(max_concurrency=str(2**63 - 1)),
        code="invalid_max_concurrency",
    ),
    Case(
        "api: test_calls -2**63",
        "POST",
        "/v1/apis",
        api(test_calls=str(-(2**63))),
        code="invalid_test_calls",
    ),
    Case(
        "api: NUL name",
        "POST",
        "/v1/apis",
        f'{{"name":"{NUL}","upstream_url":"http://127.0.0.1:9/u"}}'.encode(),
    ),
    Case("api: surrogate description", "POST", "/v1/apis", api(description=f'"{LONE}"')),
    Case(
        "api: NUL upstream url",
        "POST",
        "/v1/apis",
        f'{{"name":"x","upstream_url":"http://127.0.0.1:9/{NUL}"}}'.encode(),
    ),
    Case(
        "api: patch NUL description",
        "PATCH",
        "/v1/apis/{api}",
        f'{{"description":"{NUL}"}}'.encode(),
    ),
    Case(
        "api: patch price beyond 64 bits",
        "PATCH",
        "/v1/apis/{api}",
        f'{{"price":{BIG}}}'.encode(),
        code=INT_RANGE,
    ),
    Case("call: surrogate params", "POST", "/v1/calls", call(params=f'"{LONE}"')),
    Case("call: NUL in body", "POST", "/v1/calls", call(body=f'{{"k":"{NUL}"}}')),
    Case("call: surrogate in body", "POST", "/v1/calls", call(body=f'["{LONE}"]')),
    Case("call: NUL in params", "POST", "/v1/calls", call(params=f'{{"q":"{NUL}"}}')),
    Case(
        "call: big int in body", "POST", "/v1/calls", call(body=f'{{"n":-{BIG}}}'), code=INT_RANGE
    ),
    Case(
        "batch: 300 levels deep",
        "POST",
        "/v1/events/batch",
        b'{"events":[{"type":"a","data":' + _deep(300).encode() + b"}]}",
        code=DEEP,
    ),
    Case("call: big int params", "POST", "/v1/calls", call(params=BIG), code=INT_RANGE),
    Case("call: NUL path", "POST", "/v1/calls", call(path=f'"/x{NUL}"')),
    Case("call: NUL method", "POST", "/v1/calls", call(method=f'"P{NUL}"')),
    Case(
        "call: NUL webhook url",
        "POST",
        "/v1/calls",
        call(webhook_url=f'"http://127.0.0.1:9/{NUL}"'),
    ),
    Case("call: timeout 1e308", "POST", "/v1/calls", call(timeout="1e308"), 202, None),
    Case("call: timeout overflow", "POST", "/v1/calls", call(timeout="1e999"), code=NUM_RANGE),
    Case("call: NUL idempotency key", "POST", "/v1/calls", call(idempotency_key=f'"{NUL}"')),
    Case(
        "callback: NUL in a text/plain body",
        "POST",
        "/v1/callbacks/call_x/tok",
        f'{{"a":"{NUL}"}}'.encode(),
        headers={"content-type": "text/plain"},
    ),
    Case(
        "callback: deep text/plain body",
        "POST",
        "/v1/callbacks/call_x/tok",
        _deep(100).encode(),
        code=DEEP,
        headers={"content-type": "text/plain"},
    ),
    Case(
        "callback: NaN in a text/plain body",
        "POST",
        "/v1/callbacks/call_x/tok",
        b'{"a":NaN}',
        400,
        BAD_JSON,
        headers={"content-type": "text/plain"},
    ),
    Case(
        "callback: not JSON",
        "POST",
        "/v1/callbacks/call_x/tok",
        b"<xml/>",
        400,
        BAD_JSON,
        headers={"content-type": "text/xml"},
    ),
    Case(
        "credit: amount beyond 64 bits",
        "POST",
        "/v1/accounts/{account}/credits",
        f'{{"amount":{BIG}}}'.encode(),
        code=INT_RANGE,
        admin=True,
    ),
    Case(
        "credit: amount 2**63-1",
        "POST",
        "/v1/accounts/{account}/credits",
        f'{{"amount":{2**63 - 1}}}'.encode(),
        code="invalid_amount",
        admin=True,
    ),
    Case(
        "credit: NUL note",
        "POST",
        "/v1/accounts/{account}/credits",
        f'{{"amount":1,"note":"{NUL}"}}'.encode(),
        admin=True,
    ),
    Case("account: NUL name", "POST", "/v1/accounts", f'{{"name":"{NUL}"}}'.encode(), admin=True),
    Case(
        "account: surrogate name",
        "POST",
        "/v1/accounts",
        f'{{"name":"{LONE}"}}'.encode(),
        admin=True,
    ),
    # -- paths ---------------------------------------------------------------------------
    Case("NUL webhook id", "GET", "/v1/webhooks/%00"),
    Case("NUL inside a webhook id", "GET", "/v1/webhooks/ep_%00x"),
    Case("NUL event id", "GET", "/v1/events/msg_%00"),
    Case("NUL delivery id", "GET", "/v1/deliveries/%00"),
    Case("NUL delivery retry", "POST", "/v1/deliveries/%00/retry"),
    Case("NUL api id", "GET", "/v1/apis/%00"),
    Case("NUL api pause", "POST", "/v1/apis/%00/pause"),
    Case("NUL catalog id", "GET", "/v1/catalog/%00"),
    Case("NUL call id", "GET", "/v1/calls/%00"),
    Case("NUL call cancel", "POST", "/v1/calls/%00/cancel"),
    Case("NUL callback ids", "POST", "/v1/callbacks/%00/%00", b"{}"),
    Case("NUL key id", "DELETE", "/v1/keys/%00"),
    Case("NUL account id", "GET", "/v1/accounts/%00", admin=True),
    Case("NUL webhook delete", "DELETE", "/v1/webhooks/%00"),
    Case("NUL webhook secret", "GET", "/v1/webhooks/%00/secret"),
    Case("NUL in an unknown route", "GET", "/v1/nothing/%00"),
    Case(
        "id of 5000 characters", "GET", "/v1/webhooks/" + "e" * 5000, None, 404, "webhook_not_found"
    ),
    Case("emoji id", "GET", "/v1/webhooks/%F0%9F%98%80", None, 404, "webhook_not_found"),
    Case("UTF-8 surrogate in a path", "GET", "/v1/events/%ED%A0%80", None, 404, "event_not_found"),
    Case("invalid UTF-8 in a path", "GET", "/v1/events/msg_%FF", None, 404, "event_not_found"),
    Case("control character id", "GET", "/v1/webhooks/%01%1F", None, 404, "webhook_not_found"),
    # -- query parameters ------------------------------------------------------------------
    Case("NUL type filter", "GET", "/v1/events?type=%00"),
    Case("NUL cursor", "GET", "/v1/events?cursor=%00"),
    Case("NUL in a parameter name", "GET", "/v1/events?%00=1"),
    Case("NUL in an unknown parameter", "GET", "/v1/webhooks?x=a%00b"),
    Case("NUL catalog search", "GET", "/v1/catalog?q=%00"),
    Case("NUL call api filter", "GET", "/v1/calls?api_id=%00"),
    Case("NUL ledger call filter", "GET", "/v1/ledger?call_id=%00"),
    Case("NUL usage api filter", "GET", "/v1/usage?api_id=%00"),
    Case("NUL usage since", "GET", "/v1/usage?since=%00"),
    Case("NUL limit", "GET", "/v1/webhooks?limit=%00"),
    Case("NUL webhook deliveries cursor", "GET", "/v1/webhooks/{webhook}/deliveries?cursor=%00"),
    Case("NUL accounts cursor", "GET", "/v1/accounts?cursor=%00", admin=True),
    Case("huge limit", "GET", "/v1/webhooks?limit=" + "9" * 30, code=VALIDATION),
    Case("5000-digit limit", "GET", "/v1/events?limit=" + "9" * 5000, code=VALIDATION),
    Case("negative limit", "GET", "/v1/events?limit=-1", code=VALIDATION),
    Case("cursor of 65", "GET", "/v1/events?cursor=" + "c" * 65, code=VALIDATION),
    Case("type filter of 256", "GET", "/v1/events?type=" + "t" * 256, code=VALIDATION),
    Case("catalog search of 201", "GET", "/v1/catalog?q=" + "q" * 201, code=VALIDATION),
    Case("api filter of 65", "GET", "/v1/calls?api_id=" + "a" * 65, code=VALIDATION),
    Case("bad call status", "GET", "/v1/calls?status=bogus", code=VALIDATION),
    Case(
        "bad delivery status", "GET", "/v1/webhooks/{webhook}/deliveries?status=x", code=VALIDATION
    ),
    Case("bad include_deleted", "GET", "/v1/webhooks?include_deleted=maybe", code=VALIDATION),
    Case("bad usage role", "GET", "/v1/usage?role=x", code=VALIDATION),
    Case("garbage usage since", "GET", "/v1/usage?since=yesterday", code=VALIDATION),
    Case("usage since year 9999", "GET", "/v1/usage?since=9999-12-31T23:59:59Z", None, 200, None),
    Case("usage until year 1", "GET", "/v1/usage?until=0001-01-01T00:00:00Z", None, 200, None),
    Case(
        "usage month at the end of time",
        "GET",
        "/v1/usage?period=month&since=9999-12-31T00:00:00%2B14:00",
        None,
        200,
        None,
    ),
    Case("cursor of a surrogate", "GET", "/v1/events?cursor=%ED%A0%80", None, 200, None),
    Case("unicode type filter", "GET", "/v1/events?type=%F0%9F%98%80", None, 200, None),
    # -- headers and methods ---------------------------------------------------------------
    Case(
        "latin-1 idempotency header",
        "POST",
        "/v1/events",
        b'{"type":"a"}',
        202,
        None,
        headers={"idempotency-key": "\xff\xfe"},
    ),
    Case(
        "non-bearer authorization",
        "GET",
        "/v1/webhooks",
        status=401,
        code="unauthorized",
        headers={"authorization": "Basic \xff"},
    ),
    Case("method not allowed", "PUT", "/v1/webhooks", b"{}", 405, "method_not_allowed"),
]
