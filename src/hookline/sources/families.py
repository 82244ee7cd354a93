"""The chain families Hookline can follow, by ``kind``."""

from __future__ import annotations

from hookline.sources.base import ChainFamily, EventTypeSpec
from hookline.sources.evm import EvmFamily

FAMILIES: dict[str, ChainFamily] = {"evm": EvmFamily()}


def source_event_types() -> list[EventTypeSpec]:
    """Every event type any source publishes: what the event catalog registers."""
    return [spec for family in FAMILIES.values() for spec in family.event_types()]
