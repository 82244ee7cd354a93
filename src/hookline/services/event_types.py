"""The event catalog: registering event types, and checking published data against
their schemas.

Schemas are compiled once per process and kept keyed by (account, type, version). Each
publish reads only the versions of its types (one indexed query), so a change made
through any process is in force at that process's next publish, with no recompiling
while nothing changes.
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from hookline.domain.matching import is_valid_event_type
from hookline.domain.models import EventType, Page
from hookline.domain.schemas import CompiledSchema, InvalidSchema
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.services.common import Context
from hookline.store.event_types import EventTypeRepository, TypeState
from hookline.store.routing import RoutingRepository

MAX_DESCRIPTION = 2000
# Compiled schemas kept per process; the least recently used go first.
SCHEMA_CACHE_SIZE = 2048
STATE_CACHE_SIZE = 100_000


class SchemaMismatch(InvalidInput):
    """The event's data does not match its type's schema."""

    code = "schema_mismatch"


@dataclass(frozen=True, slots=True)
class TypeGate:
    """What publishing an event of one registered type must respect."""

    name: str
    archived: bool
    schema: CompiledSchema | None


class EventTypeService:
    def __init__(self, repo: EventTypeRepository, routing: RoutingRepository, ctx: Context) -> None:
        self.repo = repo
        self.routing = routing
        self.ctx = ctx
        self._compiled: OrderedDict[tuple[str, str, int], CompiledSchema] = OrderedDict()
        # (account, name) -> its state, or None when not in the catalog. Publishing
        # verifies the versions inside its transaction, so an entry changed by another
        # process is caught there (and dropped), never trusted.
        self._states: OrderedDict[tuple[str, str], TypeState | None] = OrderedDict()

    async def states(self, account_id: str, names: Sequence[str]) -> dict[str, TypeState | None]:
        """The catalog state of each named type (None: not registered), cached."""
        out: dict[str, TypeState | None] = {}
        missing = []
        for name in dict.fromkeys(names):
            key = (account_id, name)
            if key in self._states:
                out[name] = self._states[key]
            else:
                missing.append(name)
        if missing:
            read = await self.routing.type_states(account_id, missing)
            for name in missing:
                out[name] = self._states[(account_id, name)] = read.get(name)
            while len(self._states) > STATE_CACHE_SIZE:
                self._states.popitem(last=False)
        return out

    def forget(self, account_id: str, names: Sequence[str]) -> None:
        """Drop cached states (they changed here, or a publish found them stale)."""
        for name in names:
            self._states.pop((account_id, name), None)

    async def create(
        self,
        account_id: str,
        name: str,
        *,
        description: str = "",
        schema: Any = None,
        example: Any = None,
    ) -> EventType:
        if not is_valid_event_type(name):
            raise InvalidInput(
                "name must be letters, digits, _ or -, in dot-separated parts (e.g. invoice.paid)",
                code="invalid_event_type",
            )
        now = self.ctx.now()
        et = EventType(
            id=self.ctx.new_id("evtype"),
            account_id=account_id,
            name=name,
            description=self._description(description),
            schema=schema,
            example=example,
            version=1,
            archived_at=None,
            created_at=now,
            updated_at=now,
        )
        self._check(et)
        if not await self.repo.insert(et):
            raise Conflict(f"event type {name} already exists", code="event_type_exists")
        self.forget(account_id, [name])
        return et

    async def get(self, account_id: str, name: str) -> EventType:
        et = await self.repo.get(account_id, name)
        if et is None:
            raise NotFound("event_type")
        return et

    async def list_page(
        self,
        account_id: str,
        *,
        prefix: str | None,
        include_archived: bool,
        cursor: str | None,
        limit: int,
    ) -> Page[EventType]:
        return await self.repo.list_page(
            account_id,
            prefix=prefix,
            include_archived=include_archived,
            cursor=cursor,
            limit=limit,
        )

    async def update(self, account_id: str, name: str, changes: Mapping[str, Any]) -> EventType:
        """Apply the fields present: description, schema, example, archived."""
        current = await self.get(account_id, name)
        new: dict[str, Any] = {"updated_at": self.ctx.now(), "version": current.version + 1}
        if "description" in changes:
            new["description"] = self._description(changes["description"] or "")
        if "schema" in changes:
            new["schema"] = changes["schema"]
        if "example" in changes:
            new["example"] = changes["example"]
        if "archived" in changes:
            archived = bool(changes["archived"])
            if archived and current.archived_at is None:
                new["archived_at"] = new["updated_at"]
            elif not archived:
                new["archived_at"] = None
        updated = dataclasses.replace(current, **new)
        self._check(updated)
        if not await self.repo.replace(updated, expected_version=current.version):
            raise Conflict(
                f"event type {name} was changed meanwhile; read it and try again",
                code="event_type_changed",
            )
        self.forget(account_id, [name])
        return updated

    async def archive(self, account_id: str, name: str) -> EventType:
        """Keep the entry readable, and refuse new events of this type."""
        current = await self.get(account_id, name)
        if current.archived_at is not None:
            return current
        return await self.update(account_id, name, {"archived": True})

    async def example(self, account_id: str, name: str) -> bytes | None:
        """The registered example of a type as JSON, ready to publish; None if the type
        is not in the catalog or has no example."""
        et = await self.repo.get(account_id, name)
        if et is None or et.example is None:
            return None
        return _dumps(et.example)

    async def gates(
        self, account_id: str, states: Mapping[str, TypeState | None]
    ) -> dict[str, TypeGate]:
        """The registered types among ``states``, each with its compiled schema: compiled
        only when its version is new to this process."""
        gates: dict[str, TypeGate] = {}
        for name, state in states.items():
            if state is None:
                continue
            schema = None
            if state.has_schema and not state.archived:
                schema = await self._schema(account_id, name, state.version)
            gates[name] = TypeGate(name=name, archived=state.archived, schema=schema)
        return gates

    async def _schema(self, account_id: str, name: str, version: int) -> CompiledSchema | None:
        key = (account_id, name, version)
        compiled = self._compiled.get(key)
        if compiled is not None:
            self._compiled.move_to_end(key)
            return compiled
        et = await self.repo.get(account_id, name)
        if et is None or et.schema is None:
            return None
        compiled = CompiledSchema(et.schema)
        if et.version == version:  # else it changed since: compiled now, cached next time
            self._compiled[key] = compiled
            if len(self._compiled) > SCHEMA_CACHE_SIZE:
                self._compiled.popitem(last=False)
        return compiled

    # -- validation --------------------------------------------------------------------

    @staticmethod
    def _description(text: Any) -> str:
        if not isinstance(text, str) or len(text) > MAX_DESCRIPTION:
            raise InvalidInput(
                f"description must be text of at most {MAX_DESCRIPTION} characters",
                code="invalid_description",
            )
        return text

    @staticmethod
    def _check(et: EventType) -> None:
        """A schema must compile, and the example must match it; both must be JSON this
        API can answer with (integers within 64 bits, nesting within limits)."""
        for field, value, code in (
            ("schema", et.schema, "invalid_schema"),
            ("example", et.example, "invalid_example"),
        ):
            try:
                orjson.dumps(value)
            except TypeError as exc:
                raise InvalidInput(f"{field}: {exc}", code=code) from None
        if et.schema is None:
            return
        try:
            compiled = CompiledSchema(et.schema)
        except InvalidSchema as exc:
            raise InvalidInput(f"schema: {exc}", code="invalid_schema") from None
        if et.example is not None:
            problems = compiled.mismatches(et.example)
            if problems:
                raise InvalidInput(
                    f"example does not match the schema: {problems[0].path or '/'}: "
                    f"{problems[0].message}",
                    code="invalid_example",
                    details=[{"path": p.path, "message": p.message} for p in problems],
                )


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # stored before the 64-bit check: the standard library keeps it exact
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
