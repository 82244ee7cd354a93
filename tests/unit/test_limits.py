"""The input limits as pure functions: depth on the bytes, storable strings, numbers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.api.limits import Refusal, _parse_exactly, bad_string_in, json_depth, parse_json

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(JSON)
def test_depth_read_from_the_text_is_the_depth_of_the_value(value: Any) -> None:
    assert json_depth(json.dumps(value)) == _depth(value)


@given(JSON)
def test_storable_values_parse_to_themselves(value: Any) -> None:
    if bad_string_in(value) is None and _depth(value) <= 64:
        assert parse_json(json.dumps(value).encode()) == value


def test_brackets_and_escapes_inside_strings_do_not_count() -> None:
    assert json_depth(r'["[[[\"]]]", {"{": "\\"}]') == 2


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'"\\ud800"', "invalid_string"),
        (b'{"a": ["\\u0000"]}', "invalid_string"),
        (b'{"\\udfff": 1}', "invalid_string"),
        (b"9223372036854775808", "integer_out_of_range"),
        (b"-9223372036854775809", "integer_out_of_range"),
        (b"1" * 5000, "integer_out_of_range"),
        (b"1e400", "number_out_of_range"),
        (b"[NaN]", "invalid_json"),
        (b"[" * 65 + b"]" * 65, "json_too_deep"),
        (b"\xff", "invalid_json"),
    ],
)
def test_refusals_name_their_code(body: bytes, code: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_json(body)
    assert refused.value.problem.code == code


# Values that break every rule somewhere: integers past 64 bits, numbers past a double,
# NUL and lone surrogates (in keys too), and brackets inside strings.
HOSTILE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**66), 2**66)
    | st.sampled_from([9223372036854775807, -(2**63), 2**63, 2**64 - 1, 2**64, 10**19])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec=None) | st.sampled_from('\x00[]{}\\"\ud800\udfff'), max_size=6),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(st.sampled_from("a[{\x00\ud800\\"), max_size=3), inner, max_size=4
        )
    ),
    max_leaves=30,
)


def _outcome(parse: Any, body: bytes, depth: int) -> tuple[Any, ...]:
    try:
        return ("accepted", parse(body, depth))
    except Refusal as refused:
        return ("refused", refused.problem)


@given(HOSTILE, st.booleans(), st.integers(1, 8))
def test_the_fast_path_answers_as_the_exact_parser(
    value: Any, ascii_only: bool, depth: int
) -> None:
    """orjson's verdict is taken only where it must agree with the exact parser's."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    body = text.encode("utf-8", "surrogatepass")  # not UTF-8 where a lone surrogate is
    assert _outcome(parse_json, body, depth) == _outcome(_parse_exactly, body, depth)


@pytest.mark.parametrize(
    "body",
    [
        b"\xef\xbb\xbf{}",
        b'"\\\\u0000"',  # a backslash, then u0000: not NUL
        b'"\\u0000"',
        b"18446744073709551615",
        b"18446744073709551616",
        b"-9223372036854775808",
        b"1234567890123456789",
        b'"1234567890123456789012"',
        b"1.7976931348623157e308",
        b"1e309",
        b"-1e-400",
        b"[Infinity]",
        b'"\\ud83d\\ude00"',
        b'"\\ude00\\ud83d"',
        b'"\xed\xa0\x80"',
        b'["[[[[", {"}}}}": "{{{{"}]',
        b"[" * 64 + b"]" * 64,
        b"[" * 65 + b"]" * 65,
        b'[["' + b"]" * 70 + b'"]]',
        b"[" * 2000 + b"]" * 2000,
        b"[" * 100_000,
        b'{"a": 1, "a": 2}',
        b"[1,]",
        b" \n 1 \t ",
    ],
)
def test_the_fast_path_answers_as_the_exact_parser_on_edges(body: bytes) -> None:
    assert _outcome(parse_json, body, 64) == _outcome(_parse_exactly, body, 64)


def test_where_a_bad_string_is_is_named() -> None:
    assert bad_string_in({"a": [1, {"b": "x\x00"}]}) == "a[1].b"
    assert bad_string_in({"ok": "\U0001f600"}) is None
