"""EVM chains (Ethereum and its kin), followed over standard JSON-RPC."""

from __future__ import annotations

from hookline.domain import egress
from hookline.domain.sources import Source
from hookline.sources.base import EventTypeSpec, FollowLimits
from hookline.sources.evm import decode
from hookline.sources.evm.event_types import evm_event_types
from hookline.sources.evm.follower import EvmFollower


class EvmFamily:
    kind = "evm"

    def normalise_address(self, raw: str) -> str:
        return decode.normalise_address(raw)

    def display_address(self, normalised: str) -> str:
        return decode.checksummed(normalised)

    def event_types(self) -> list[EventTypeSpec]:
        return evm_event_types()

    def follower(
        self, source: Source, limits: FollowLimits, allow: tuple[egress.IPNetwork, ...]
    ) -> EvmFollower:
        return EvmFollower(source, limits, allow)


__all__ = ["EvmFamily", "evm_event_types"]
