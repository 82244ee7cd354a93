"""The input limits as pure functions: depth on the bytes, storable strings, numbers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.api.limits import Refusal, bad_string_in, json_depth, parse_json

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


def test_where_a_bad_string_is_is_named() -> None:
    assert bad_string_in({"a": [1, {"b": "x\x00"}]}) == "a[1].b"
    assert bad_string_in({"ok": "\U0001f600"}) is None
