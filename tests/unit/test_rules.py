"""Trigger rules: validation, and matching properties that hold for any data."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.domain.rules import (
    MAX_REGEX_LENGTH,
    InvalidRules,
    RuleIndex,
    RuleSet,
    compile_rules,
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["5", "5.0", "05", "-1", "1e3", "abc", ""]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from("abxy"), inner, max_size=4)
    ),
    max_leaves=20,
)
fields = st.lists(st.sampled_from("abxy"), min_size=1, max_size=3).map(".".join)
rule_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.text(max_size=8),
    st.sampled_from(["5", "5.0", "abc"]),
)


def one(field: str, operator: str, value: Any) -> RuleSet:
    return compile_rules([{"field": field, "operator": operator, "value": value}])


def test_the_example_from_the_issue() -> None:
    rules = compile_rules(
        [
            {"field": "asset_name", "operator": "=", "value": "RBERRY"},
            {"field": "quantity", "operator": ">", "value": "5"},
        ]
    )
    assert rules.matches({"asset_name": "RBERRY", "quantity": 6})
    assert rules.matches({"asset_name": "RBERRY", "quantity": "5.5"})
    assert not rules.matches({"asset_name": "RBERRY", "quantity": 5})
    assert not rules.matches({"asset_name": "OTHER", "quantity": 6})
    assert not rules.matches({"asset_name": "RBERRY"})


def test_numbers_compare_as_exact_decimals() -> None:
    assert one("q", "=", "5").matches({"q": 5.0})
    assert one("q", "=", 5).matches({"q": "5.00"})
    assert not one("q", "=", "5").matches({"q": "5.0"})  # two strings compare as text
    big = 2**200  # beyond 64 bits, rules take numbers as numeric strings; data any size
    assert one("q", ">", str(big)).matches({"q": big + 1})
    assert not one("q", ">", str(big)).matches({"q": big})
    assert one("q", "=", str(big)).matches({"q": big})
    assert one("q", "=", 2**64 - 1).matches({"q": str(2**64 - 1)})
    assert one("q", "<", "0.3").matches({"q": 0.1 + 0.1})  # repr of the float, not binary
    assert not one("q", ">", 1).matches({"q": True})  # booleans are not numbers


def test_paths_through_arrays_match_any_element() -> None:
    rule = one("to.address", "=", "0xa")
    assert rule.matches({"to": [{"address": "0xb"}, {"address": "0xa"}]})
    assert rule.matches({"to": {"address": ["0xc", "0xa"]}})
    assert not rule.matches({"to": [{"address": "0xb"}]})
    assert not rule.matches({"to": []})
    assert one("block.pool.ticker", "=", "X").matches({"block": {"pool": {"ticker": "X"}}})


def test_negations_match_missing_fields() -> None:
    assert one("status", "!=", "test").matches({})
    assert one("status", "not_in", ["a"]).matches({"other": 1})
    assert not one("tags", "!=", "vip").matches({"tags": ["new", "vip"]})
    assert one("x", "exists", False).matches({"y": 1})
    assert one("x", "exists", True).matches({"x": None})
    assert compile_rules([{"field": "x", "operator": "exists"}]).matches({"x": 0})


def test_string_operators_and_regex() -> None:
    assert one("s", "contains", "err").matches({"s": "an error"})
    assert one("s", "starts_with", "0x").matches({"s": "0xab"})
    assert one("s", "ends_with", "ab").matches({"s": "0xab"})
    assert not one("s", "contains", "1").matches({"s": 1})
    assert one("s", "regex", "(?i)^0xAB").matches({"s": "0xab12"})
    # A pattern that backtracks exponentially elsewhere runs in linear time on RE2.
    assert not one("s", "regex", "(a+)+$").matches({"s": "a" * 100_000 + "!"})


def test_in_compares_like_equality() -> None:
    rule = one("q", "in", ["a", 5, None])
    assert rule.matches({"q": "5.0"})
    assert rule.matches({"q": "a"})
    assert rule.matches({"q": None})
    assert not rule.matches({"q": "b"})
    assert one("q", "in", ["5"]).matches({"q": 5})


@pytest.mark.parametrize(
    ("rules", "path"),
    [
        ([{"field": "a", "operator": "~", "value": 1}], "/rules/0/operator"),
        ([{"field": "a", "operator": "=", "value": 1}, {"field": "a..b"}], "/rules/1/field"),
        ([{"field": "", "operator": "=", "value": 1}], "/rules/0/field"),
        ([{"field": "a", "operator": ">", "value": "x"}], "/rules/0/value"),
        ([{"field": "a", "operator": "=", "value": {"x": 1}}], "/rules/0/value"),
        ([{"field": "a", "operator": "in", "value": []}], "/rules/0/value"),
        ([{"field": "a", "operator": "regex", "value": "(?=x)"}], "/rules/0/value"),
        ([{"field": "a", "operator": "regex", "value": "(a"}], "/rules/0/value"),
        ([{"field": "a", "operator": "regex", "value": "a" * (MAX_REGEX_LENGTH + 1)}], None),
        ([{"field": "a", "operator": "exists", "value": "yes"}], "/rules/0/value"),
        ([{"field": "a", "operator": "=", "value": 1, "extra": 1}], "/rules/0/extra"),
        ([{"field": "a", "operator": "="}], "/rules/0/value"),
        (["a = 1"], "/rules/0"),
        ([{"field": "a", "operator": "=", "value": 2**64}], "/rules/0/value"),
        ([{"field": "a", "operator": ">", "value": -(2**63) - 1}], "/rules/0/value"),
        ([{"field": "a", "operator": "in", "value": [1, 2**70]}], "/rules/0/value"),
        ({"field": "a"}, "/rules"),
    ],
)
def test_invalid_rules_name_the_rule(rules: Any, path: str | None) -> None:
    with pytest.raises(InvalidRules) as caught:
        compile_rules(rules)
    assert caught.value.details[0]["path"] == (path or "/rules/0/value")


def test_a_regex_too_costly_for_its_memory_budget_is_refused() -> None:
    with pytest.raises(InvalidRules):
        compile_rules([{"field": "a", "operator": "regex", "value": "((a{100}){100}){100}"}])


@given(json_values, fields, rule_values)
def test_not_equal_is_the_negation_of_equal(data: Any, field: str, value: Any) -> None:
    assert one(field, "!=", value).matches(data) is not one(field, "=", value).matches(data)


@given(json_values, fields, st.lists(rule_values, min_size=1, max_size=4))
def test_in_is_any_equal_and_not_in_its_negation(data: Any, field: str, values: list[Any]) -> None:
    any_equal = any(one(field, "=", v).matches(data) for v in values)
    assert one(field, "in", values).matches(data) is any_equal
    assert one(field, "not_in", values).matches(data) is not any_equal


@given(json_values, fields)
def test_exists_false_is_the_negation_of_exists(data: Any, field: str) -> None:
    assert one(field, "exists", False).matches(data) is not one(field, "exists", True).matches(data)


@given(st.lists(json_values, max_size=4), fields, rule_values)
def test_an_array_matches_when_any_element_does(items: list[Any], field: str, value: Any) -> None:
    first, *rest = field.split(".")
    elements = [_nest(rest, item) for item in items]
    for op in ("=", ">"):
        rule = one(field, op, value if op == "=" else "1")
        expected = any(rule.matches({first: e}) for e in elements)
        assert rule.matches({first: elements}) is expected


def _nest(path: list[str], leaf: Any) -> Any:
    for key in reversed(path):
        leaf = {key: leaf}
    return leaf


@given(
    st.one_of(st.integers(), st.decimals(allow_nan=False, allow_infinity=False, places=6)),
    st.one_of(st.integers(), st.decimals(allow_nan=False, allow_infinity=False, places=6)),
)
def test_ordering_agrees_with_decimals_in_every_representation(a: Any, b: Any) -> None:
    da, db = Decimal(a), Decimal(b)
    expected = {">": da > db, ">=": da >= db, "<": da < db, "<=": da <= db}
    for op, want in expected.items():
        small = isinstance(b, int) and -(2**63) <= b < 2**64
        for bound in (str(b), b) if small else (str(b),):
            for candidate in (a, str(a)):
                assert one("q", op, bound).matches({"q": candidate}) is want, (op, bound, a)


@given(json_values, st.lists(st.tuples(fields, rule_values), min_size=1, max_size=5))
def test_a_set_matches_when_every_rule_does(data: Any, specs: list[tuple[str, Any]]) -> None:
    docs = [{"field": f, "operator": "=", "value": v} for f, v in specs]
    together = compile_rules(docs).matches(data)
    assert together is all(one(f, "=", v).matches(data) for f, v in specs)
    assert compile_rules(docs).to_documents() == docs


@given(
    st.text(alphabet="ab.x-_ ", max_size=10), st.text(alphabet="ab.x-_ ", min_size=1, max_size=4)
)
def test_a_literal_regex_is_contains(text: str, needle: str) -> None:
    assert one("s", "regex", re.escape(needle)).matches({"s": text}) is (needle in text)
    assert one("s", "contains", needle).matches({"s": text}) is (needle in text)


@given(json_values)
def test_matching_any_data_never_raises(data: Any) -> None:
    for op, value in [(">", "1"), ("=", 1), ("in", ["a", 1]), ("regex", "a"), ("exists", True)]:
        one("a.b", op, value).matches(data)


operators = st.sampled_from(["=", "!=", ">", "in", "exists", "contains"])


def _value_for(operator: str, value: Any) -> Any:
    if operator == ">":
        return 1
    if operator == "in":
        return [value if value is not None else "a", "x"]
    if operator == "exists":
        return True
    if operator == "contains":
        return "a"
    return value


@given(
    st.lists(
        st.lists(st.tuples(fields, operators, rule_values), min_size=1, max_size=3),
        max_size=8,
    ),
    st.lists(json_values, min_size=1, max_size=4),
)
def test_the_index_finds_exactly_the_matching_rule_sets(
    specs: list[list[tuple[str, str, Any]]], datas: list[Any]
) -> None:
    sets = {
        f"ep_{i}": compile_rules(
            [{"field": f, "operator": op, "value": _value_for(op, v)} for f, op, v in spec]
        )
        for i, spec in enumerate(specs)
    }
    index = RuleIndex(sets)
    for data in datas:
        assert index.matching(data) == {k for k, rules in sets.items() if rules.matches(data)}


def test_the_index_looks_up_addresses_instead_of_scanning() -> None:
    sets = {
        f"ep_{i}": compile_rules([{"field": "to.address", "operator": "=", "value": f"a{i}"}])
        for i in range(1000)
    }
    index = RuleIndex(sets)
    assert index.matching({"to": [{"address": "a7"}, {"address": "a900"}, {"address": 7}]}) == {
        "ep_7",
        "ep_900",
    }
