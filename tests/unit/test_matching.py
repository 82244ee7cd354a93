from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.domain.matching import (
    MAX_LENGTH,
    is_valid_event_type,
    is_valid_pattern,
    matches,
    subscribes,
)

# Small alphabets so that generated types share prefixes often enough to be interesting.
segments = st.text("ab-_1", min_size=1, max_size=3)
event_types = st.lists(segments, min_size=1, max_size=4).map(".".join)
patterns = st.one_of(
    st.just("*"),
    event_types,
    event_types.map(lambda prefix: prefix + ".*"),
)


@pytest.mark.parametrize(
    "name", ["invoice.paid", "a", "task.step.done", "A-b_c.D9", "x" * MAX_LENGTH]
)
def test_valid_event_types(name: str) -> None:
    assert is_valid_event_type(name)


@pytest.mark.parametrize(
    "name",
    ["", ".a", "a.", "a..b", "a b", "a.*", "*", "a/b", "café.paid", "x" * (MAX_LENGTH + 1)],
)
def test_invalid_event_types(name: str) -> None:
    assert not is_valid_event_type(name)


@pytest.mark.parametrize("pattern", ["*", "a", "a.b", "a.*", "a.b.*", "Task-1.*"])
def test_valid_patterns(pattern: str) -> None:
    assert is_valid_pattern(pattern)


@pytest.mark.parametrize(
    "pattern",
    ["", "**", "a*", "*.a", "a.*.b", ".*", "a.**", "a.", "a..*", "*a", "x" * (MAX_LENGTH + 1)],
)
def test_invalid_patterns(pattern: str) -> None:
    assert not is_valid_pattern(pattern)


def test_a_family_pattern_matches_descendants_only() -> None:
    assert matches("task.*", "task.done")
    assert matches("task.*", "task.step.done")
    assert not matches("task.*", "task")
    assert not matches("task.*", "taskforce.x")
    assert not matches("task.*", "other.task.done")


def test_star_matches_every_type_and_an_exact_pattern_only_itself() -> None:
    assert matches("*", "anything.at.all")
    assert matches("invoice.paid", "invoice.paid")
    assert not matches("invoice.paid", "invoice.paid.late")
    assert not matches("invoice.paid", "invoice")
    assert not matches("Invoice.paid", "invoice.paid")


@given(event_types)
def test_every_event_type_is_also_a_valid_exact_pattern(name: str) -> None:
    assert is_valid_event_type(name)
    assert is_valid_pattern(name)
    assert is_valid_pattern(name + ".*")
    assert is_valid_pattern("*")


@given(event_types, event_types)
def test_an_exact_pattern_matches_only_itself(pattern: str, name: str) -> None:
    assert matches(pattern, name) is (pattern == name)


@given(event_types, event_types)
def test_a_family_pattern_matches_exactly_the_types_under_its_prefix(
    prefix: str, name: str
) -> None:
    assert matches(prefix + ".*", name) is name.startswith(prefix + ".")


@given(event_types)
def test_a_family_never_matches_its_own_prefix(prefix: str) -> None:
    assert not matches(prefix + ".*", prefix)
    assert matches(prefix + ".*", prefix + ".x")


@given(event_types)
def test_star_matches_everything(name: str) -> None:
    assert matches("*", name)


@given(patterns, event_types, event_types)
def test_a_match_is_kept_by_every_wider_family(pattern: str, name: str, suffix: str) -> None:
    # A family that matches a type also matches everything below that type.
    if pattern.endswith(".*") and matches(pattern, name):
        assert matches(pattern, f"{name}.{suffix}")


@given(event_types)
def test_no_patterns_means_every_event(name: str) -> None:
    assert subscribes(None, name)
    assert subscribes([], name)
    assert subscribes((), name)


@given(st.lists(patterns, min_size=1, max_size=5), event_types)
def test_subscribing_means_some_pattern_matches(found: list[str], name: str) -> None:
    assert subscribes(found, name) is any(matches(p, name) for p in found)


@given(st.lists(patterns, min_size=1, max_size=5), event_types)
def test_the_order_of_patterns_does_not_matter(found: list[str], name: str) -> None:
    assert subscribes(found, name) is subscribes(list(reversed(found)), name)


@pytest.mark.parametrize("name", ["invoice.paid\n", "a.*\n", "*\n"])
def test_a_trailing_newline_is_not_part_of_any_name(name: str) -> None:
    # A regex "$" also matches before a final newline; stored types must be exactly
    # what the grammar allows.
    assert not is_valid_event_type(name)
    assert not is_valid_pattern(name)


def test_operational_events_need_an_explicit_pattern() -> None:
    kind = "hookline.delivery.exhausted"
    assert not subscribes(None, kind)
    assert not subscribes(["*"], kind)
    assert not subscribes(["delivery.*", "*"], kind)
    assert subscribes(["hookline.*"], kind)
    assert subscribes(["hookline.delivery.*"], kind)
    assert subscribes([kind], kind)
    assert not subscribes(["hookline.webhook.*"], kind)
    assert subscribes(["*"], "hooklinex.a")
