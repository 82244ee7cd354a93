"""What every request must satisfy before any route sees it: the checks behind the guard.

Pure functions over the request's bytes and strings; :mod:`hookline.api.guard` applies
them to every request, so a route added later is covered without doing anything.

- A JSON body is UTF-8 without a byte order mark, and strict JSON (no ``NaN`` or
  ``Infinity``): otherwise ``400 invalid_json``.
- It nests at most ``max_json_depth`` arrays and objects: otherwise ``422 json_too_deep``.
  Depth is measured on the bytes, outside strings. The only parser that may run before
  that is orjson, whose own limit (1,024 levels) bounds its recursion; Python's parser,
  which recurses without one, only ever sees a document whose depth is checked.
- Integers fit in 64 signed bits (``-2**63`` to ``2**63 - 1``) and other numbers in a
  double: otherwise ``422 integer_out_of_range`` / ``number_out_of_range``. Integers in
  range are kept exactly, so an event's ``data`` is delivered with the same digits.
- Every string (keys included) is valid Unicode without NUL: a lone surrogate escape
  such as ``"\\ud800"`` or a ``"\\u0000"`` is ``422 invalid_string``. PostgreSQL text
  cannot hold NUL, and nothing can encode a lone surrogate as UTF-8, so either would fail
  later, when it is stored or read back.
- Query parameters and the path hold no NUL either (``422 invalid_string``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import orjson

DEFAULT_MAX_JSON_DEPTH = 64
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

# A JSON string (escapes included) or one bracket. Strings are matched whole so that
# brackets inside them are not counted.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
# The same strings, in bytes; and what the fast path must leave to the exact one.
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
# Nineteen digits in a row, once every digit reads 0: maybe an integer outside 64 bits
# (or only digits in a string).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a request is refused: the HTTP status, a stable code and a message."""

    status: int
    code: str
    message: str


class Refusal(Exception):
    """A request refused by these limits; ``problem`` says how to answer."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (0 for a scalar)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def _integer(digits: str) -> int:
    # Length first: Python refuses to convert very long digit strings at all.
    if len(digits) > 20 or not INT_MIN <= (value := int(digits)) <= INT_MAX:
        raise Refusal(
            Problem(
                422,
                "integer_out_of_range",
                f"integers must be from {INT_MIN} to {INT_MAX}; send larger ones as strings",
            )
        )
    return value


def _number(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise Refusal(
            Problem(422, "number_out_of_range", f"the number {text[:40]} is out of range")
        )
    return value


def _constant(name: str) -> Any:
    raise Refusal(Problem(400, "invalid_json", f"{name} is not valid JSON"))


def parse_json(body: bytes, max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> Any:
    """Parse a request body under the rules above; raises :class:`Refusal`.

    orjson parses first, and what it accepts meets most rules already (UTF-8 without a
    byte order mark, strict JSON, finite numbers, no lone surrogates). What it cannot
    rule on from the bytes at a glance (a ``\\u0000``, a run of 19 digits, the depth
    over the limit) and whatever it refuses goes to the exact parser below, which says
    precisely why, or accepts it after all."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _parse_exactly(body, max_depth)
    if (
        b"\\u0000" in body
        or _LONG_DIGITS in body.translate(_DIGITS_AS_ZERO)
        or _bracket_depth(body, max_depth) > max_depth
    ):
        return _parse_exactly(body, max_depth)
    return doc


def _bracket_depth(body: bytes, enough: int) -> int:
    """:func:`json_depth` of a body orjson accepted (so its strings are well formed), or
    at most ``enough`` when it has no more opening brackets than that at all."""
    opening = body.count(b"[") + body.count(b"{")
    if opening <= enough:
        return opening
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _parse_exactly(body: bytes, max_depth: int) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(Problem(400, "invalid_json", "the body is not valid UTF-8")) from None
    if text.startswith("\ufeff"):
        raise Refusal(Problem(400, "invalid_json", "the body starts with a byte order mark"))
    if json_depth(text) > max_depth:
        raise Refusal(
            Problem(
                422,
                "json_too_deep",
                f"the body nests arrays and objects more than {max_depth} levels deep",
            )
        )
    try:
        doc = json.loads(text, parse_int=_integer, parse_float=_number, parse_constant=_constant)
    except ValueError:
        raise Refusal(Problem(400, "invalid_json", "the body is not valid JSON")) from None
    where = bad_string_in(doc)
    if where is not None:
        raise Refusal(invalid_string(f"the body at {where or 'top level'}"))
    return doc


def invalid_string(where: str) -> Problem:
    return Problem(
        422,
        "invalid_string",
        f"{where}: strings must be valid Unicode without NUL (no \\u0000, no lone surrogates)",
    )


def is_bad_string(value: str) -> bool:
    return _BAD_CHARS.search(value) is not None


def bad_string_in(doc: Any) -> str | None:
    """The path (``a.b[2]``) of the first string (or key) that is not storable, if any."""
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if is_bad_string(value):
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                if is_bad_string(key):
                    return where or "top level"
                stack.append((path, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
    return None


def bad_parameter(pairs: Iterable[tuple[str, str]]) -> str | None:
    """The name of the first query parameter whose name or value holds NUL, if any."""
    for name, value in pairs:
        if is_bad_string(name) or is_bad_string(value):
            return name.replace("\x00", "\\u0000")
    return None
