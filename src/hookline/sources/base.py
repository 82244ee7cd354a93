"""The small interface a chain family implements, and the values a follow step yields.

A family knows its addresses and its event types; its follower turns the chain into
:class:`Step` values, one bounded step at a time, and never touches the database: the
runner commits each step (events, cursor, tracked notifications) in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from hookline.domain.egress import IPNetwork
from hookline.domain.sources import Cursor, Source, Tracked


class FollowError(Exception):
    """The chain could not be read as expected (node unreachable, an error answer, a
    different chain); the runner records it on the source and retries with backoff."""


class EventTypeSpec(NamedTuple):
    """An event type a family publishes, with what the event catalog needs of it:
    a plain ``(name, description, schema, example)`` tuple."""

    name: str
    description: str
    schema: dict[str, Any]
    example: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Publication:
    """One event to publish. ``track`` is the tracked row it belongs to, if any."""

    event_type: str
    data: dict[str, Any]
    idempotency_key: str
    track: str | None = None


@dataclass(frozen=True, slots=True)
class FollowState:
    """What a follower needs from the database for one step."""

    source: Source
    addresses: Mapping[str, str | None]  # normalised address -> label
    tracked: tuple[Tracked, ...]  # notifications whose block may still be replaced
    blocks: Mapping[int, str]  # recent processed block numbers -> hashes


@dataclass(slots=True)
class Step:
    """What one follow step produced; committed all together or not at all."""

    head: int | None = None
    events: list[Publication] = field(default_factory=list)
    cursor: Cursor | None = None  # the new cursor; None leaves it as it was
    blocks: list[tuple[int, str]] = field(default_factory=list)  # newly processed blocks
    new_tracked: list[Tracked] = field(default_factory=list)
    confirmed: dict[str, int] = field(default_factory=dict)  # tracked ref -> new count
    rewound: bool = False  # a reorg: blocks and tracked rows above the cursor are dropped
    more: bool = False  # a backlog remains: step again without waiting

    @property
    def changes_anything(self) -> bool:
        return bool(self.events or self.cursor or self.confirmed or self.rewound)


class Follower(Protocol):
    async def step(self, state: FollowState) -> Step:
        """Read the chain past the cursor and say what to publish; raises on RPC trouble
        (the runner backs off and calls again from the same committed state)."""
        ...

    def committed(self) -> None:
        """The last step was committed: forget what it carried only in memory."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class FollowLimits:
    """Bounds every follower honours, from the settings."""

    block_range: int  # blocks per step (and per log query)
    reorg_window: int  # blocks kept to find a common ancestor after a reorg
    rpc_timeout: float
    max_events: int  # events per step (one transaction)


class ChainFamily(Protocol):
    kind: str

    def normalise_address(self, raw: str) -> str:
        """The stored form of an address; ``ValueError`` with a reason when invalid."""
        ...

    def display_address(self, normalised: str) -> str: ...

    def event_types(self) -> list[EventTypeSpec]: ...

    def follower(
        self, source: Source, limits: FollowLimits, allow: tuple[IPNetwork, ...]
    ) -> Follower: ...
