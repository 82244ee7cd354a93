"""Trigger rules: conditions on an event's ``data`` that a webhook's deliveries require.

A rule is ``{"field": "to.address", "operator": "=", "value": "0xabc"}``. A webhook's
rules all have to match for an event to be delivered to it.

Semantics (docs/routing.md has the user's version):

- ``field`` is a dotted path of object keys into ``data``. Wherever the path meets an
  array, every element is followed, so ``to.address`` reaches the ``address`` of each
  element of ``to``. The values reached are the candidates; an array reached at the end
  is flattened into its elements too. A positive operator matches when *any* candidate
  matches.
- ``!=``, ``not_in`` and ``exists`` with ``false`` are exact negations of ``=``, ``in``
  and ``exists``: they match when *no* candidate matches, which includes a missing
  field. Combine with ``exists`` to require the field.
- Equality: when one side is a JSON number and the other a number or a numeric string,
  both are compared as exact decimals (``5``, ``5.0`` and ``"5"`` are equal; integers of
  any size stay exact). Two strings compare as strings (``"05"`` is not ``"5"``); booleans
  and null equal only themselves.
- ``>``, ``>=``, ``<``, ``<=`` compare numbers and numeric strings as decimals; anything
  else does not match.
- ``contains``, ``starts_with``, ``ends_with`` and ``regex`` apply to strings only and are
  case-sensitive (a regex may say ``(?i)``). Regexes run on RE2: time linear in the input,
  no backtracking, no look-around or back-references; patterns are capped in length.

Compile once (:func:`compile_rules`), then match cheaply (:meth:`RuleSet.matches`).
"""

from __future__ import annotations

import functools
import operator as operator_module
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import re2
from re2 import _re2

MAX_RULES = 32
MAX_FIELD_LENGTH = 255
MAX_FIELD_DEPTH = 16
MAX_STRING_VALUE = 1024
MAX_LIST_VALUES = 256
MAX_REGEX_LENGTH = 256
MAX_NUMERIC_STRING = 100
# RE2's memory budget per compiled pattern; a pattern needing more is refused.
REGEX_MAX_MEM = 1 << 20

OPERATORS = (
    "=",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "ends_with",
    "exists",
    "regex",
)
_NUMERIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?")


class InvalidRules(ValueError):
    """Rules that cannot be used; ``details`` name each problem by JSON pointer."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        self.details = details
        first = details[0]
        super().__init__(f"{first['path']}: {first['message']}")


def as_decimal(value: Any) -> Decimal | None:
    """The exact decimal a JSON number or numeric string stands for, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr is the shortest text that reads back as this float: 5.1 stays 5.1.
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str) and len(value) <= MAX_NUMERIC_STRING:
        return _text_decimal(value)
    return None


@functools.lru_cache(maxsize=4096)
def _text_decimal(text: str) -> Decimal | None:
    # Cached: one event's "quantity" is compared by every webhook that has a rule on it.
    if not _NUMERIC.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def equal(candidate: Any, value: Any) -> bool:
    """Rule equality (see the module docstring)."""
    if isinstance(candidate, bool) or isinstance(value, bool):
        return isinstance(candidate, bool) and isinstance(value, bool) and candidate is value
    if candidate is None or value is None:
        return candidate is None and value is None
    if _is_number(candidate) or _is_number(value):
        a, b = as_decimal(candidate), as_decimal(value)
        return a is not None and b is not None and a == b
    if isinstance(candidate, str) and isinstance(value, str):
        return candidate == value
    return False


_MISSING = object()


def _flatten(value: Any, out: list[Any]) -> None:
    if isinstance(value, list):
        for item in value:
            _flatten(item, out)
    else:
        out.append(value)


def reach(data: Any, path: Sequence[str]) -> list[Any]:
    """The values at ``path`` in ``data``, following every element of arrays on the way."""
    current = [data]
    for key in path:
        step: list[Any] = []
        for value in current:
            if type(value) is dict:
                found = value.get(key, _MISSING)
                if found is not _MISSING:
                    step.append(found)
            elif type(value) is list:
                _reach_into(value, key, step)
        if not step:
            return step
        current = step
    return current


def _reach_into(items: list[Any], key: str, out: list[Any]) -> None:
    for item in items:
        if type(item) is dict:
            found = item.get(key, _MISSING)
            if found is not _MISSING:
                out.append(found)
        elif type(item) is list:
            _reach_into(item, key, out)


Test = Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class Rule:
    """One validated rule, with its test of a single candidate."""

    field: str
    operator: str
    value: Any
    path: tuple[str, ...]
    test: Test
    negated: bool

    def matches(self, data: Any) -> bool:
        # The common case inline: objects all the way down to one non-array value.
        value = data
        for key in self.path:
            if type(value) is not dict:
                break
            value = value.get(key, _MISSING)
            if value is _MISSING:
                return self.negated
        else:
            if type(value) is not list:
                hit = True if self.operator == "exists" else self.test(value)
                return hit is not self.negated
        reached = reach(data, self.path)
        if self.operator == "exists":
            return bool(reached) is not self.negated
        test = self.test
        for value in reached:
            if type(value) is list:
                candidates: list[Any] = []
                _flatten(value, candidates)
                for c in candidates:
                    if test(c):
                        return not self.negated
            elif test(value):
                return not self.negated
        return self.negated

    @property
    def index_key(self) -> tuple[tuple[str, ...], str] | None:
        """(path, text) when this rule is ``=`` with a non-numeric string: it then matches
        exactly the candidates equal to that text, which an index can look up."""
        if self.operator == "=" and isinstance(self.value, str) and as_decimal(self.value) is None:
            return self.path, self.value
        return None

    def to_document(self) -> dict[str, Any]:
        return {"field": self.field, "operator": self.operator, "value": self.value}


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule, ...]
    never: bool = False  # matches nothing (stands for rules that cannot be used)

    def matches(self, data: Any) -> bool:
        """Whether every rule matches this event's data (an empty set always does)."""
        return not self.never and all(rule.matches(data) for rule in self.rules)

    def to_documents(self) -> list[dict[str, Any]]:
        return [r.to_document() for r in self.rules]


class RuleIndex:
    """Many webhooks' rules, arranged so that one event is matched against all of them
    without evaluating each: a webhook with an ``=`` rule on a string is found by looking
    that string up under its path; only the webhooks found, and those without such a
    rule, are evaluated in full. 1,000 webhooks each watching their own address cost a
    few lookups per event, not 1,000 evaluations."""

    def __init__(self, rule_sets: dict[str, RuleSet]) -> None:
        self._by_path: dict[tuple[str, ...], dict[str, list[tuple[str, RuleSet]]]] = {}
        self._scan: list[tuple[str, RuleSet]] = []
        for key, rules in rule_sets.items():
            indexed = next((r.index_key for r in rules.rules if r.index_key), None)
            if indexed is None:
                self._scan.append((key, rules))
            else:
                path, text = indexed
                self._by_path.setdefault(path, {}).setdefault(text, []).append((key, rules))

    def matching(self, data: Any) -> set[str]:
        """The keys of the rule sets that match this event's data."""
        found = {key for key, rules in self._scan if rules.matches(data)}
        for path, by_text in self._by_path.items():
            candidates: list[Any] = []
            for value in reach(data, path):
                _flatten(value, candidates)
            seen: set[str] = set()
            for c in candidates:
                if type(c) is str and c not in seen:
                    seen.add(c)
                    for key, rules in by_text.get(c, ()):
                        if rules.matches(data):
                            found.add(key)
        return found


class _Problems:
    def __init__(self) -> None:
        self.details: list[dict[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.details.append({"path": path, "message": message})


def compile_rules(documents: Any, *, base: str = "/rules") -> RuleSet:
    """Validate rule documents and compile them; raises :class:`InvalidRules` naming
    every problem by its JSON pointer (``/rules/1/operator``)."""
    problems = _Problems()
    if not isinstance(documents, list):
        raise InvalidRules([{"path": base, "message": "must be a list of rules"}])
    if len(documents) > MAX_RULES:
        raise InvalidRules([{"path": base, "message": f"at most {MAX_RULES} rules"}])
    rules: list[Rule] = []
    for i, doc in enumerate(documents):
        rule = _compile_one(doc, f"{base}/{i}", problems)
        if rule is not None:
            rules.append(rule)
    if problems.details:
        raise InvalidRules(problems.details)
    return RuleSet(tuple(rules))


def _compile_one(doc: Any, at: str, problems: _Problems) -> Rule | None:
    if not isinstance(doc, dict):
        problems.add(at, 'must be an object {"field", "operator", "value"}')
        return None
    before = len(problems.details)
    for key in doc:
        if key not in ("field", "operator", "value"):
            problems.add(f"{at}/{_escape(str(key))}", "unknown key")
    field = doc.get("field")
    path = _path(field, f"{at}/field", problems)
    operator = doc.get("operator")
    if not isinstance(operator, str) or operator not in OPERATORS:
        problems.add(f"{at}/operator", f"unknown operator; use one of {', '.join(OPERATORS)}")
        return None
    if operator == "exists":
        value = doc.get("value", True)
    elif "value" not in doc:
        problems.add(f"{at}/value", f"operator {operator} needs a value")
        return None
    else:
        value = doc["value"]
    test = _test(operator, value, f"{at}/value", problems)
    if test is None or path is None or len(problems.details) > before:
        return None
    assert isinstance(field, str)
    return Rule(
        field=field,
        operator=operator,
        value=value,
        path=path,
        test=test,
        negated=operator in ("!=", "not_in") or (operator == "exists" and value is False),
    )


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _path(field: Any, at: str, problems: _Problems) -> tuple[str, ...] | None:
    if not isinstance(field, str) or not field:
        problems.add(at, "must be a dotted path into data, e.g. to.address")
        return None
    if len(field) > MAX_FIELD_LENGTH:
        problems.add(at, f"at most {MAX_FIELD_LENGTH} characters")
        return None
    parts = tuple(field.split("."))
    if any(not p for p in parts):
        problems.add(at, "empty path segment: use keys separated by single dots")
        return None
    if len(parts) > MAX_FIELD_DEPTH:
        problems.add(at, f"at most {MAX_FIELD_DEPTH} levels deep")
        return None
    return parts


# Integer values beyond 64 bits are refused: many JSON clients lose them, and a numeric
# string ("1000000000000000000000") says the same number exactly.
INT_RANGE = range(-(2**63), 2**64)


def _scalar(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_STRING_VALUE
    if isinstance(value, int) and not isinstance(value, bool):
        return value in INT_RANGE
    return value is None or isinstance(value, bool | float)


def _test(operator: str, value: Any, at: str, problems: _Problems) -> Test | None:
    if operator in ("=", "!="):
        if not _scalar(value):
            problems.add(
                at,
                "must be a string, number (integers within 64 bits; larger ones as "
                "numeric strings), boolean or null",
            )
            return None
        if isinstance(value, str) and as_decimal(value) is None:
            # Text that is no number equals only the same text: a plain comparison.
            return functools.partial(operator_module.eq, value)
        return lambda c: equal(c, value)
    if operator in (">", ">=", "<", "<="):
        bound = as_decimal(value)
        if bound is None or (isinstance(value, int) and value not in INT_RANGE):
            problems.add(
                at, "must be a number (integers within 64 bits) or a numeric string (any size)"
            )
            return None
        return _ordering(operator, bound)
    if operator in ("in", "not_in"):
        if (
            not isinstance(value, list)
            or not 1 <= len(value) <= MAX_LIST_VALUES
            or not all(_scalar(v) for v in value)
        ):
            problems.add(at, f"must be a list of 1 to {MAX_LIST_VALUES} strings or numbers")
            return None
        strings = frozenset(v for v in value if isinstance(v, str))
        non_strings = tuple(v for v in value if not isinstance(v, str))
        everything = tuple(value)

        def member(c: Any) -> bool:
            # A string equals a listed string as text, or a listed number as a decimal.
            if isinstance(c, str):
                return c in strings or any(equal(c, v) for v in non_strings)
            return any(equal(c, v) for v in everything)

        return member
    if operator in ("contains", "starts_with", "ends_with"):
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_STRING_VALUE:
            problems.add(at, f"must be a string of 1 to {MAX_STRING_VALUE} characters")
            return None
        method = {"contains": str.__contains__, "starts_with": str.startswith}.get(
            operator, str.endswith
        )
        return lambda c: isinstance(c, str) and method(c, value)
    if operator == "exists":
        if not isinstance(value, bool):
            problems.add(at, "must be true or false")
            return None
        return lambda _c: True
    return _regex(value, at, problems)


def _ordering(operator: str, bound: Decimal) -> Test:
    compare: Callable[[Decimal], bool] = {
        ">": bound.__lt__,
        ">=": bound.__le__,
        "<": bound.__gt__,
        "<=": bound.__ge__,
    }[operator]

    def test(c: Any) -> bool:
        d = as_decimal(c)
        return d is not None and compare(d)

    return test


def _regex(value: Any, at: str, problems: _Problems) -> Test | None:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_REGEX_LENGTH:
        problems.add(at, f"must be a regular expression of 1 to {MAX_REGEX_LENGTH} characters")
        return None
    options = re2.Options()
    options.max_mem = REGEX_MAX_MEM
    options.log_errors = False
    options.never_capture = True  # only whether it matches is wanted
    # The extension's RE2 object directly: the module-level wrapper builds match objects
    # and offset maps on every search, which costs several times the search itself.
    pattern = _re2.RE2(value.encode(), options)
    if not pattern.ok():
        problems.add(at, f"not a valid RE2 regular expression: {pattern.error().decode()}")
        return None
    match, anywhere = pattern.Match, _re2.RE2.Anchor.UNANCHORED

    def search(c: Any) -> bool:
        if type(c) is not str:
            return False
        text = c.encode()
        return bool(match(anywhere, text, 0, len(text))[0][0] >= 0)

    return search
