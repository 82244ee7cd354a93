"""Request bodies and response shapes of chain event sources."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

from hookline.api.responses import ts
from hookline.api.schemas import Strict
from hookline.domain.sources import Source, WatchedAddress


class SourceCreate(Strict):
    # No coercion: "archived": 0 or "chain_id": "5" is refused, as the schema says.
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: str = Field(max_length=16)
    name: str = Field(min_length=1, max_length=200)
    rpc_url: str = Field(max_length=2048)
    chain_id: int | None = None
    confirmations: list[int] = Field(default_factory=lambda: [1], max_length=64)
    poll_interval: float = 2.0
    start_block: int | None = None


class SourceUpdate(Strict):
    # No coercion: "archived": 0 or "chain_id": "5" is refused, as the schema says.
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    rpc_url: str | None = Field(default=None, max_length=2048)
    chain_id: int | None = None
    confirmations: list[int] | None = Field(default=None, max_length=64)
    poll_interval: float | None = None


class AddressIn(Strict):
    # No coercion: "archived": 0 or "chain_id": "5" is refused, as the schema says.
    model_config = ConfigDict(extra="forbid", strict=True)

    address: str = Field(max_length=200)
    label: str | None = Field(default=None, max_length=200)


class AddressesAdd(Strict):
    """One address (``address``, ``label``) or many (``addresses``)."""

    # No coercion: "archived": 0 or "chain_id": "5" is refused, as the schema says.
    model_config = ConfigDict(extra="forbid", strict=True)

    address: str | None = Field(default=None, max_length=200)
    label: str | None = Field(default=None, max_length=200)
    addresses: list[AddressIn] | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _one_form(self) -> AddressesAdd:
        if (self.address is None) == (self.addresses is None):
            raise ValueError('give either "address" or "addresses"')
        return self

    def entries(self) -> list[tuple[str, str | None]]:
        if self.addresses is not None:
            return [(a.address, a.label) for a in self.addresses]
        assert self.address is not None
        return [(self.address, self.label)]


def source_out(s: Source) -> dict[str, Any]:
    return {
        "source_id": s.id,
        "object": "source",
        "kind": s.kind,
        "name": s.name,
        "rpc_url": s.rpc_url,
        "chain_id": s.chain_id,
        "confirmations": list(s.confirmations),
        "poll_interval": s.poll_interval,
        "start_block": s.start_block,
        "status": s.status.value,
        "health": {
            "head_block": s.head_block,
            "last_processed_block": s.cursor.block if s.cursor else None,
            "last_processed_hash": s.cursor.hash if s.cursor else None,
            "lag": s.lag,
            "last_error": s.last_error,
            "last_error_at": ts(s.last_error_at),
        },
        "created_at": ts(s.created_at),
        "updated_at": ts(s.updated_at),
    }


def address_out(a: WatchedAddress, display: str) -> dict[str, Any]:
    return {
        "object": "source_address",
        "address": display,
        "label": a.label,
        "created_at": ts(a.created_at),
    }
