"""Event sources: what a user registers to have Hookline follow a chain for them.

A source belongs to an account and names a chain family (``kind``), the node to read
(``rpc_url``), the confirmation counts to notify at, and the addresses to watch. Its
follow state (the cursor: the last processed block and its hash) lives beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class SourceStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class Cursor:
    """The last block whose notifications are published: number and hash."""

    block: int
    hash: str | None  # None only before the chain's first block (block -1)


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    account_id: str
    kind: str
    name: str
    rpc_url: str
    chain_id: int | None
    confirmations: tuple[int, ...]  # sorted, distinct; 0 means "pending"
    poll_interval: float
    start_block: int | None
    status: SourceStatus
    cursor: Cursor | None
    head_block: int | None
    last_error: str | None
    last_error_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def lag(self) -> int | None:
        if self.head_block is None or self.cursor is None:
            return None
        return max(0, self.head_block - self.cursor.block)


@dataclass(frozen=True, slots=True)
class WatchedAddress:
    source_id: str
    address: str  # normalised by the chain family (EVM: lower-case hex)
    label: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Tracked:
    """A notification published at its first confirmation level and kept while its block
    may still be replaced: higher levels are published from it, and a reorg names it."""

    ref: str  # unique within the source: what was matched, and how
    event_type: str
    block_number: int
    block_hash: str
    data: dict[str, Any]  # the event's data without ``confirmation``
    confirmed: int  # the highest confirmation count published for it so far
    event_ids: tuple[str, ...]
