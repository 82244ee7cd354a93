"""Which webhooks an event goes to: trigger rules, compiled once and applied before the
publish transaction.

Before the transaction, :meth:`RuleBook.judge` takes which active webhooks have rules
(ids and ``updated_at`` only, read once and kept until a publish finds it stale),
compiles the rules of any webhook not seen in that version, and matches each event
against all of them through a :class:`~hookline.domain.rules.RuleIndex` kept per
application until one changes. Inside
the transaction the endpoints read there decide: a verdict counts only for the
``updated_at`` it was made for, so a webhook changed in between is judged again there,
never by stale rules.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from hookline.domain.matching import subscribes
from hookline.domain.models import Endpoint, Message
from hookline.domain.rules import InvalidRules, RuleIndex, RuleSet, compile_rules
from hookline.store.endpoints import EndpointRepository
from hookline.store.routing import RoutingRepository

log = logging.getLogger("hookline.routing")

RULE_CACHE_SIZE = 20_000
INDEX_CACHE_SIZE = 1_000


def parse_data(payload_json: str | bytes) -> Any:
    """An event's data as Python values (integers of any size kept exact)."""
    try:
        return orjson.loads(payload_json)
    except orjson.JSONDecodeError:  # e.g. integers beyond 64 bits
        return json.loads(payload_json)


@dataclass(frozen=True, slots=True)
class Verdicts:
    """The rules' verdicts for a batch: ``versions`` (webhook id -> the ``updated_at``
    judged) and, per event, the ids of the webhooks whose rules matched."""

    versions: dict[str, datetime]
    matched: list[set[str]]


class RuleBook:
    def __init__(self, endpoints: EndpointRepository, routing: RoutingRepository) -> None:
        self.endpoints = endpoints
        self.routing = routing
        # (account, app) -> its webhooks with rules and their updated_at, as last read.
        # Only an optimisation: the publish transaction checks every verdict against the
        # updated_at it reads, and marks the entry stale when they disagree.
        self._versions: OrderedDict[tuple[str, str], dict[str, datetime]] = OrderedDict()
        self._compiled: OrderedDict[tuple[str, datetime], RuleSet] = OrderedDict()
        self._indexes: OrderedDict[tuple[str, str], tuple[dict[str, datetime], RuleIndex]] = (
            OrderedDict()
        )

    def compiled(self, endpoint_id: str, updated_at: datetime, documents: Any) -> RuleSet:
        """The compiled rules of one version of a webhook (compiled on first use)."""
        key = (endpoint_id, updated_at)
        rules = self._compiled.get(key)
        if rules is None:
            try:
                rules = compile_rules(list(documents))
            except InvalidRules as exc:
                # Stored rules are validated when written; should a later version refuse
                # them, the webhook receives nothing rather than everything.
                log.warning("webhook %s has rules that no longer compile: %s", endpoint_id, exc)
                rules = RuleSet((), never=True)
            self._compiled[key] = rules
            if len(self._compiled) > RULE_CACHE_SIZE:
                self._compiled.popitem(last=False)
        return rules

    async def judge(
        self, account_id: str, app_id: str, count: int, data: Callable[[int], Any]
    ) -> Verdicts:
        """Match events 0..count-1 (``data(i)`` each) against the rules of the
        application's webhooks."""
        key = (account_id, app_id)
        versions = self._versions.get(key)
        if versions is None:
            versions = self._versions[key] = await self.routing.rule_versions(account_id, app_id)
            if len(self._versions) > INDEX_CACHE_SIZE:
                self._versions.popitem(last=False)
        if not versions:
            return Verdicts(versions, [set() for _ in range(count)])
        index = await self._index(account_id, app_id, versions)
        return Verdicts(versions, [index.matching(data(i)) for i in range(count)])

    async def _index(
        self, account_id: str, app_id: str, versions: dict[str, datetime]
    ) -> RuleIndex:
        key = (account_id, app_id)
        cached = self._indexes.get(key)
        if cached is not None and cached[0] == versions:
            self._indexes.move_to_end(key)
            return cached[1]
        missing = [i for i, at in versions.items() if (i, at) not in self._compiled]
        if missing:
            for endpoint_id, (at, docs) in (await self.endpoints.rules_of(missing)).items():
                if docs is not None:
                    self.compiled(endpoint_id, at, docs)
        sets = {
            i: rules
            for i, at in versions.items()
            if (rules := self._compiled.get((i, at))) is not None
        }
        index = RuleIndex(sets)
        if len(sets) == len(versions):  # complete: nothing changed while it was read
            self._indexes[key] = (versions, index)
            if len(self._indexes) > INDEX_CACHE_SIZE:
                self._indexes.popitem(last=False)
        return index

    def selector(
        self,
        messages: Sequence[Message],
        verdicts: Verdicts,
        data: Callable[[int], Any],
    ) -> Callable[[Message, list[Endpoint]], list[Endpoint]]:
        """The in-transaction choice of endpoints for these messages (in the order the
        verdicts were made): subscribed, and rules matching."""
        position = {m.id: i for i, m in enumerate(messages)}
        versions = verdicts.versions

        def select(message: Message, candidates: list[Endpoint]) -> list[Endpoint]:
            i = position[message.id]
            matched = verdicts.matched[i]
            chosen = []
            with_rules = current = 0
            for ep in candidates:
                if ep.rules is not None:
                    with_rules += 1
                    current += versions.get(ep.id) == ep.updated_at
                if not subscribes(ep.event_types, message.event_type):
                    continue
                if ep.channels is not None and not (
                    message.channels and set(ep.channels) & set(message.channels)
                ):
                    continue
                if ep.rules is not None:
                    if versions.get(ep.id) == ep.updated_at:
                        if ep.id not in matched:
                            continue
                    elif not self.compiled(ep.id, ep.updated_at, ep.rules).matches(data(i)):
                        continue  # changed since it was judged: judged again, now
                chosen.append(ep)
            if not current == with_rules == len(versions):
                # Some webhook's rules changed since they were read: read them afresh
                # before the next publish of this application.
                self._versions.pop((message.account_id, message.app_id), None)
            return chosen

        return select
