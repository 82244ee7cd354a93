"""JSON Schemas (draft 2020-12) of event types: checked once, compiled once, applied fast.

Validation runs on ``jsonschema-rs`` (compiled Rust). Schemas never fetch anything: remote
``$ref`` is refused (``offline``), and ``pattern`` keywords run on a linear-time regex
engine, so no schema can make a publish slow or reach the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema_rs

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
MAX_DETAILS = 20


class InvalidSchema(ValueError):
    """A schema that is not a usable draft 2020-12 JSON Schema."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    path: str  # a JSON pointer into the event's data ("" is the whole of it)
    message: str


def _pointer(parts: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class CompiledSchema:
    def __init__(self, schema: Any) -> None:
        if not isinstance(schema, dict | bool):
            raise InvalidSchema("must be a JSON Schema object (or true / false)")
        if isinstance(schema, dict) and schema.get("$schema", DRAFT_2020_12) not in (
            DRAFT_2020_12,
            DRAFT_2020_12 + "#",
        ):
            raise InvalidSchema(f"$schema must be {DRAFT_2020_12} (draft 2020-12)")
        try:
            self._validator = jsonschema_rs.Draft202012Validator(
                schema,
                offline=True,
                pattern_options=jsonschema_rs.RegexOptions(),
            )
        except Exception as exc:  # the library raises several kinds for a bad schema
            raise InvalidSchema(str(exc).split("\n", 1)[0]) from None

    def mismatches(self, data: Any) -> list[Mismatch]:
        """The ways ``data`` does not match (empty when it does), at most MAX_DETAILS."""
        if self._validator.is_valid(data):
            return []
        out: list[Mismatch] = []
        for error in self._validator.iter_errors(data):
            out.append(Mismatch(_pointer(error.instance_path), error.message))
            if len(out) >= MAX_DETAILS:
                break
        return out
